import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreAlertHistory } from '../../../cloud/alerts/alert-history.ts';
import type { AlertThresholds } from '../../../cloud/alerts/alert-settings.ts';
import { weatherPageSettings, withAlertThresholds, type WeatherPageSettings } from '../../../cloud/dashboard/weather-page-settings.ts';
import type { WeatherSource } from '../../../cloud/dashboard/weather-source.ts';
import type { WeatherRecord } from '../../../hardware/core/contract.ts';
import { evaluateAlertsOnce } from '../alerts/evaluate-once.ts';
import { startEngine, type EngineFixture } from '../engine/engine-fixture.ts';
import { weatherApp } from './weather-app.ts';
import { ALL_OK, envelopes, weatherDay } from './weather-records.ts';

/** The weather routes on the real engine (SQLite in a temp folder, the ready-made weather resources), through inject(). */

let fixture: EngineFixture;
let app: FastifyInstance | undefined;

beforeEach(async () => {
  fixture = await startEngine({ resourceFiles: ['cloud/resources/default.json'] });
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  await fixture.close();
});

/** The page, after one alert evaluation of what the test sent (the thresholds in `settings` go to the alerts). */
async function page(settings: Partial<WeatherPageSettings> = {}, source?: WeatherSource): Promise<FastifyInstance> {
  const { frostAtOrBelowC, heavyRainMmPerHour, heavyRainMmPerDay, highGustKmh, offlineMinutes, ...pageOnly } = settings;
  const thresholds: Partial<AlertThresholds> = { frostAtOrBelowC, heavyRainMmPerHour, heavyRainMmPerDay, highGustKmh, offlineMinutes };
  const alerts = await evaluateAlertsOnce(fixture, Object.fromEntries(Object.entries(thresholds).filter(([, v]) => v !== undefined)));
  const parsed = withAlertThresholds(weatherPageSettings.parse({ timeZone: 'UTC', ...pageOnly }), alerts);
  app = await weatherApp(fixture, parsed, source, new StoreAlertHistory(fixture.engine.store));
  return app;
}

async function send(stationId: string, records: WeatherRecord[]): Promise<void> {
  for (const e of envelopes(stationId, records)) await fixture.engine.handleMqttMessage(e.topic, e.payload);
}

/** Straight into the weather channel, as any IoT Analytics client could: ids the MQTT path would refuse. */
async function batchPut(records: Array<Record<string, unknown>>): Promise<void> {
  const messages = records.map((r, i) => ({ messageId: `m${i}`, payload: Buffer.from(JSON.stringify(r)) }));
  const answer = await fixture.engine.batchPutMessage({ channelName: 'weather_channel', messages });
  expect(answer.batchPutMessageErrorEntries).toEqual([]);
}

const text = (html: string) => html.replace(/<style>[^<]*<\/style>/, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('the weather page', () => {
  it('says no station has reported yet, still offers the public CSV, and loads nothing from outside', async () => {
    const response = await (await page()).inject({ url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(text(response.body)).toContain('No station has reported yet');
    expect(response.body).toContain('href="/public/datasets/weather_daily/latest.csv"');
    expect(response.body).not.toMatch(/<script|src=|https?:\/\/|@import|url\(/);
    expect((await app!.inject({ url: '/weather' })).body).toBe(response.body);
  });

  it('shows each station\'s latest reading with its age, charts, and its frost and high-wind alerts in plain words', async () => {
    const now = fixture.time.now();
    await send('north_field', weatherDay({ end: now - 3 * 60_000, low: 2, high: 9, gust: { kmh: 74, minutesAgo: 123 }, latest: { ambient_temperature: -0.8, ground_temperature: 0.4 } }));
    await send('top_barn', weatherDay({ end: now - 2 * 60_000, low: 5, high: 11 }));
    const body = (await (await page()).inject({ url: '/' })).body;
    const words = text(body);
    expect(words).toContain('north_field live');
    expect(words).toContain('Last reading Sun 31 Dec, 23:57 (3 min ago)');
    expect(words).toContain('Frost now since Sun 31 Dec, 23:57 Temperature down to −0.8 °C since 23:57 (frost alert at 0.0 °C or below)');
    expect(words).toContain('High wind over since Sun 31 Dec, 21:57, until Sun 31 Dec, 22:17 Gusts up to 74 km/h from 21:57 to 22:17');
    expect(words).toContain('Air temperature −0.8 °C');
    expect(words).toContain('Wind direction SW (225°)');
    // Each station links to its own page (charts and downloads); the list itself needs no script.
    expect(body).toContain('<section class="station" id="station-north_field" data-station="north_field"><h2><a href="/stations/north_field">north_field</a>');
    expect(body).not.toContain('<script');
    const topBarn = words.slice(words.indexOf('top_barn live'));
    expect(topBarn).not.toMatch(/Frost|High wind|Heavy rain/);
  });

  it('raises heavy rain from the last hour', async () => {
    const now = fixture.time.now();
    await send('wet_meadow', weatherDay({ end: now - 60_000, downpour: { mm: 12, minutesAgo: 0 } }));
    const words = text((await (await page({ heavyRainMmPerHour: 8 })).inject({ url: '/' })).body);
    expect(words).toMatch(/Heavy rain now since [^)]*? Up to 1\d\.\d mm of rain in an hour since \d\d:\d\d \(alert at 8\.0 mm in an hour\)/);
  });

  it('shows a missing sensor as "—" with its status, never as 0, on the page and in the JSON', async () => {
    const now = fixture.time.now();
    await send('orchard', weatherDay({
      end: now - 60_000,
      hours: 1,
      latest: { ground_temperature: null, humidity: null, rainfall: null, sensors: { ...ALL_OK, ds18b20: 'missing', bme280: 'fault: humidity out of range', rain_gauge: 'missing' } },
    }));
    const words = text((await (await page()).inject({ url: '/' })).body);
    expect(words).toContain('Ground temperature — ds18b20: missing');
    expect(words).toContain('Humidity — bme280: fault: humidity out of range');
    expect(words).not.toContain('Ground temperature 0');
    const json = JSON.parse((await app!.inject({ url: '/public/stations.json' })).body);
    expect(json.stations[0].lastReading).toMatchObject({ ground_temperature: null, humidity: null, rainfall: null, sensors: { ds18b20: 'missing' } });
  });

  it('escapes station ids and sensor statuses from the datastore', async () => {
    const now = fixture.time.now();
    const evil = '<img src=x onerror="alert(1)">&';
    await batchPut([{ ...weatherDay({ end: now - 60_000, hours: 1, stepMs: 3600_000 })[0], ground_temperature: null, device_id: evil, sensors: { ds18b20: "fault: <script>alert('x')</script>" } }]);
    const body = (await (await page()).inject({ url: '/' })).body;
    expect(body).not.toContain('<img src=x');
    expect(body).not.toContain('<script>');
    expect(body).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;');
    expect(body).toContain('ds18b20: fault: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;');
    expect(body).toContain('id="station-%3Cimg%20src%3Dx%20onerror%3D%22alert(1)%22%3E%26"');
  });

  it('marks a stale station, hides one silent for weeks, and says the page shows measurements only', async () => {
    const now = fixture.time.now();
    await send('old_gate', weatherDay({ end: now - 2 * 3600_000, hours: 1 }));
    await send('lost_mast', weatherDay({ end: now - 40 * 86_400_000, hours: 1 }));
    const words = text((await (await page()).inject({ url: '/' })).body);
    expect(words).toContain('old_gate stale: no reading for 2 h');
    expect(words).toContain('Rain, last hour — no reading in the last hour');
    expect(words).not.toContain('lost_mast');
    expect(words).toContain('1 station(s) silent for more than 30 days are not shown');
  });
});

describe('the stations JSON', () => {
  it('gives the thresholds, each station\'s latest reading, 24-hour figures, alerts and slices', async () => {
    const now = fixture.time.now();
    await send('north_field', weatherDay({ end: now, low: -3, high: 4, gust: { kmh: 64, minutesAgo: 30 }, latest: { ambient_temperature: 2, ground_temperature: 3 } }));
    const response = await (await page({ highGustKmh: 62 })).inject({ url: '/public/stations.json' });
    expect(response.statusCode).toBe(200);
    const json = JSON.parse(response.body);
    expect(json.thresholds).toMatchObject({ frostAtOrBelowC: 0, highGustKmh: 62 });
    const [station] = json.stations;
    expect(station).toMatchObject({ stationId: 'north_field', ageSeconds: 0, stale: false, last24h: { gustMax: 64 } });
    expect(station.last24h.airMin).toBeLessThanOrEqual(-2.9);
    // The night's frost (from the first record, 00:10) and the evening's (ended by the latest 2 °C), and the gust.
    expect(station.alerts.map((a: { kind: string; when: string }) => `${a.kind}/${a.when}`)).toEqual(['frost/last24h', 'frost/last24h', 'high-wind/last24h']);
    expect(station.alerts[1]).toMatchObject({ until: now, headline: 'Frost over' });
    expect(station.slices).toHaveLength(96);
    expect(station.slices[95].start).toBe(now - 24 * 3600_000 + 1 + 95 * 15 * 60_000);
  });
});

describe('safety', () => {
  it('answers 503 with a plain message when the datastore cannot be read', async () => {
    const broken: WeatherSource = {
      stationIds: async () => {
        throw new Error('disk I/O error');
      },
      latest: async () => undefined,
      buckets: async () => [],
      series: async () => [],
      countRecords: async () => 0,
      records: async function* () {},
      recordsSince: async () => [],
      close: async () => undefined,
    };
    const server = await page({}, broken);
    const html = await server.inject({ url: '/' });
    expect(html.statusCode).toBe(503);
    expect(html.body).toContain('could not be read just now');
    expect(html.body).not.toContain('disk I/O');
    const json = await server.inject({ url: '/public/stations.json' });
    expect(json.statusCode).toBe(503);
    expect(JSON.parse(json.body).message).toContain('Try again in a minute');
  });

  it('opens only the page: the API still refuses unsigned calls', async () => {
    const server = await page();
    const api = await server.inject({ url: '/channels' });
    expect(api.statusCode).toBe(403);
    const post = await server.inject({ method: 'POST', url: '/' });
    expect(post.statusCode).toBe(403);
  });
});
