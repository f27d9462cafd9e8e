import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertSettings, thresholdsFor } from '../../../cloud/alerts/alert-settings.ts';
import { loadSettings } from '../../../bin/hedgerow-settings.ts';
import { ConfigError } from '../../../hardware/core/config-file.ts';

/** The alerts: section through the real config file loader, as `npm start --config farm.yaml` reads it. */
function load(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-alert-settings-'));
  try {
    const file = join(dir, 'farm.yaml');
    writeFileSync(file, yaml);
    return loadSettings(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function problems(yaml: string): string {
  try {
    load(yaml);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.join('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('alert settings', () => {
  it('has a default for every key: alerts on, every minute, dataset and MQTT outputs, no ntfy or webhook', () => {
    const s = load('{}').alerts;
    expect(s).toMatchObject({ enabled: true, evaluateEverySeconds: 60, notifyWithinMinutes: 60, frostAtOrBelowC: 0, highGustKmh: 60, offlineMinutes: 30, channelName: 'alerts_channel', mqtt: { enabled: true, topicPrefix: 'dt/alerts' } });
    expect(s.hysteresis.frost).toEqual({ clearMargin: 1, minHoldMinutes: 10 });
    expect(s.ntfy).toBeUndefined();
    expect(s.webhook).toBeUndefined();
  });

  it('takes ntfy and the webhook as one entry each, and per-station overrides over the defaults', () => {
    const s = load(`
alerts:
  highGustKmh: 70
  ntfy: { url: https://ntfy.sh/north-farm-frost, priority: 5 }
  webhook: { url: http://192.168.1.20:8123/api/webhook/farm, secret: s3cret-barn }
  stations:
    hill_top: { highGustKmh: 90 }
`).alerts;
    expect(s.ntfy).toEqual({ url: 'https://ntfy.sh/north-farm-frost', priority: 5 });
    expect(s.webhook).toMatchObject({ url: 'http://192.168.1.20:8123/api/webhook/farm', secret: 's3cret-barn', headers: {} });
    expect(thresholdsFor(s, 'hill_top')).toMatchObject({ highGustKmh: 90, frostAtOrBelowC: 0 });
    expect(thresholdsFor(s, 'river_bend').highGustKmh).toBe(70);
  });

  it('refuses an ntfy URL that is not http(s), saying what to write instead', () => {
    const text = problems('alerts:\n  ntfy: { url: ntfy://ntfy.sh/mytopic }\n');
    expect(text).toContain('alerts.ntfy.url: use an http:// or https:// address for the ntfy topic, e.g. https://ntfy.sh/my-farm-alerts (got "ntfy://ntfy.sh/mytopic")');
    expect(problems('alerts:\n  webhook: { url: "just-a-host" }\n')).toContain('alerts.webhook.url: use an http:// or https:// address for the webhook');
  });

  it('refuses an unknown key in a station override, naming the path', () => {
    const text = problems('alerts:\n  stations:\n    hill_top: { highGustKph: 90 }\n');
    expect(text).toContain('alerts.stations.hill_top: unknown key "highGustKph"; did you mean "highGustKmh"?');
    // Nothing close: the keys an override takes, found through the stations map.
    expect(problems('alerts:\n  stations:\n    hill_top: { colour: red }\n')).toContain(
      'alerts.stations.hill_top: unknown key "colour"; remove it, or use one of "frostAtOrBelowC", "heavyRainMmPerHour", "heavyRainMmPerDay", "highGustKmh", "offlineMinutes"',
    );
  });

  it('no longer takes the thresholds under weatherPage: they are defined once, in alerts', () => {
    expect(problems('weatherPage:\n  frostAtOrBelowC: 1\n')).toMatch(/weatherPage: .*frostAtOrBelowC/);
    const page = load('alerts:\n  frostAtOrBelowC: 1\n');
    expect(page.alerts.frostAtOrBelowC).toBe(1);
    expect(alertSettings.parse({}).frostAtOrBelowC).toBe(0);
  });
});
