import type { FastifyInstance } from 'fastify';
import { apiSettings } from '../../../cloud/api/api-settings.ts';
import { createContentUrls } from '../../../cloud/api/content-urls.ts';
import { buildApp } from '../../../cloud/api/server.ts';
import type { AlertHistory } from '../../../cloud/alerts/alert-history.ts';
import type { WeatherPageSettings } from '../../../cloud/dashboard/weather-page-settings.ts';
import { StoreWeatherSource, type WeatherSource } from '../../../cloud/dashboard/weather-source.ts';
import { silentLog, TEST_KEY } from '../api/helpers.ts';
import type { EngineFixture } from '../engine/engine-fixture.ts';

/** The whole API app with the weather page and its data endpoints, on the fixture's engine and clock; the source defaults to the fixture's datastore. */
export function weatherApp(fixture: EngineFixture, settings: WeatherPageSettings, source?: WeatherSource, alerts?: AlertHistory): Promise<FastifyInstance> {
  const api = apiSettings.parse({ accessKeys: [TEST_KEY] });
  return buildApp({
    engine: fixture.engine,
    settings: api,
    accessKeys: api.accessKeys,
    contentUrls: createContentUrls({ key: Buffer.alloc(32, 7), ttlSeconds: 3600, now: () => fixture.time.now() }),
    log: silentLog,
    now: () => fixture.time.now(),
    weatherPage: { settings, source: source ?? new StoreWeatherSource({ store: fixture.engine.store, datastoreName: settings.datastoreName }), alerts },
  });
}
