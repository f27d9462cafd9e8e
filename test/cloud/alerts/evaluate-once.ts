import { AlertEngine } from '../../../cloud/alerts/alert-engine.ts';
import { alertSettings, type AlertSettings } from '../../../cloud/alerts/alert-settings.ts';
import { StoreWeatherSource } from '../../../cloud/dashboard/weather-source.ts';
import { silentLog } from '../api/helpers.ts';
import type { EngineFixture } from '../engine/engine-fixture.ts';

/**
 * One alert evaluation of what a test put into the engine's weather datastore, as the running cloud
 * does every minute, so page tests show the stored alerts. No MQTT, ntfy or webhook; the alerts dataset
 * gets its events. Returns the parsed settings (the page draws its thresholds from them).
 */
export async function evaluateAlertsOnce(fixture: EngineFixture, overrides: Record<string, unknown> = {}): Promise<AlertSettings> {
  const settings = alertSettings.parse({ mqtt: { enabled: false }, ...overrides });
  const engine = new AlertEngine({
    settings,
    store: fixture.engine.store,
    dataDir: fixture.dir,
    source: new StoreWeatherSource({ store: fixture.engine.store }),
    engine: fixture.engine,
    mqtt: fixture.settings.mqtt,
    log: silentLog,
    clock: fixture.time,
    timeZone: 'UTC',
  });
  await engine.start();
  try {
    await engine.evaluateNow();
    await engine.idle();
  } finally {
    await engine.stop();
  }
  return settings;
}
