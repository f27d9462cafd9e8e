import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { comparedSeries, SERIES_PATHS, stationSeries, type StationSeries } from '../../../cloud/dashboard/series-contract.ts';
import { registerWeatherData } from '../../../cloud/dashboard/weather-data-routes.ts';
import { DOWNLOAD_CSV_HEADER } from '../../../cloud/dashboard/weather-download.ts';
import { weatherPageSettings } from '../../../cloud/dashboard/weather-page-settings.ts';
import { StoreWeatherSource } from '../../../cloud/dashboard/weather-source.ts';
import { parseCsv } from '../../../cloud/query/csv.ts';
import type { Envelope, WeatherRecord } from '../../../hardware/core/contract.ts';
import { silentLog } from '../api/helpers.ts';
import { FakeTime, startEngine, type EngineFixture } from '../engine/engine-fixture.ts';
import { weatherApp } from './weather-app.ts';
import { ALL_OK } from './weather-records.ts';

/** The page's data endpoints on the real engine (SQLite in a temp folder, the ready-made weather resources). */

const MIN = 60_000;
let fixture: EngineFixture;
let app: FastifyInstance | undefined;
let sent = 0;

beforeEach(async () => {
  // 10:37 on 1 January 2024: inside a 15-minute, an hour's and a day's bucket, not at their start.
  fixture = await startEngine({ resourceFiles: ['cloud/resources/default.json'] }, new FakeTime(Date.UTC(2024, 0, 1, 10, 37)));
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  await fixture.close();
});

const settings = weatherPageSettings.parse({ timeZone: 'UTC' });
const sourceFor = () => new StoreWeatherSource({ store: fixture.engine.store, datastoreName: settings.datastoreName });

async function server(): Promise<FastifyInstance> {
  app = await weatherApp(fixture, settings);
  return app;
}

/** A record `minutesAgo` before now; the fields not given are plain mid-values. */
function reading(minutesAgo: number, fields: Partial<WeatherRecord> = {}): WeatherRecord {
  return {
    ts: fixture.time.now() - minutesAgo * MIN,
    ambient_temperature: 5,
    ground_temperature: 6,
    air_quality: 12,
    air_pressure: 1012,
    humidity: 80,
    wind_direction: 225,
    wind_speed: 9,
    wind_gust_speed: 20,
    rainfall: 0,
    sensors: { ...ALL_OK },
    ...fields,
  };
}

async function send(stationId: string, records: WeatherRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 50) {
    const envelope: Envelope<WeatherRecord> = { messageId: `m${++sent}`, deviceId: stationId, seq: sent, sentAt: fixture.time.now(), records: records.slice(i, i + 50) };
    await fixture.engine.handleMqttMessage(`dt/weather/${stationId}/reading`, Buffer.from(JSON.stringify(envelope)));
  }
}

async function series(stationId: string, range = '24h'): Promise<StationSeries> {
  const response = await app!.inject({ url: `${SERIES_PATHS.station(stationId)}?range=${range}` });
  expect(response.statusCode).toBe(200);
  return stationSeries.parse(JSON.parse(response.body));
}

/** The value of `column` in the bucket holding the time `minutesAgo` before now. */
function at(s: StationSeries, column: string, minutesAgo: number): number | null | undefined {
  const t = (fixture.time.now() - minutesAgo * MIN) / 1000;
  const i = s.time.findIndex((start) => start <= t && t < start + s.bucketSeconds);
  return s.columns[column]![i];
}

describe('station series', () => {
  it('gives min, mean and max of the records in a bucket, the vector mean of wind direction, and rain summed per hour', async () => {
    // 10:37 now: the 10:30 bucket holds the records 1, 3 and 5 minutes ago.
    await send('north_field', [
      reading(5, { ambient_temperature: 1, wind_direction: 350, rainfall: 0.2794, humidity: 81.4 }),
      reading(3, { ambient_temperature: 2, wind_direction: 10, rainfall: 0.2794, humidity: 90 }),
      reading(1, { ambient_temperature: 6.04, wind_direction: 180, wind_speed: 0, rainfall: 0.2794 }),
      reading(40, { ambient_temperature: -2.25, rainfall: 1 }),
    ]);
    await server();
    const s = await series('north_field');
    expect(s.bucketSeconds).toBe(900);
    expect(at(s, 'ambient_temperature_min', 3)).toBe(1);
    expect(at(s, 'ambient_temperature_max', 3)).toBe(6);
    expect(at(s, 'ambient_temperature_mean', 3)).toBe(3);
    expect(at(s, 'humidity_mean', 3)).toBe(84);
    // 350° and 10° average to north, not 180°; the calm record's vane (180°) does not count.
    expect(at(s, 'wind_direction_mean', 3)).toBe(0);
    expect(at(s, 'wind_speed_mean', 3)).toBe(6);
    // Half away from zero at one decimal: -2.25 → -2.3.
    expect(at(s, 'ambient_temperature_min', 40)).toBe(-2.3);
    expect(at(s, 'ambient_temperature_min', 20)).toBeNull();
    expect(s.units).toMatchObject({ ambient_temperature_min: '°C', air_pressure_mean: 'hPa', wind_direction_mean: '°' });
    // Rain per clock hour: 09:00 holds the 1 mm at 09:57, 10:00 the three tips.
    expect(s.rain.bucketSeconds).toBe(3600);
    const hour = (h: number) => (Date.UTC(2024, 0, 1, h) / 1000);
    expect(s.rain.time.slice(-2)).toEqual([hour(9), hour(10)]);
    expect(s.rain.mm.slice(-2)).toEqual([1, 0.84]);
  });

  it('draws a single record as a single point, and says so for a station with nothing in the range', async () => {
    await send('lone', [reading(2, { ambient_temperature: 3.3 })]);
    await send('old', [reading(3 * 24 * 60, { ambient_temperature: 7 })]);
    await server();
    const lone = await series('lone');
    expect(lone.columns.ambient_temperature_mean!.filter((v) => v !== null)).toEqual([3.3]);
    expect(lone.columns.ambient_temperature_mean!.at(-1)).toBe(3.3);
    const old = await series('old');
    expect(old.columns.ambient_temperature_mean!.every((v) => v === null)).toBe(true);
    expect((await series('old', '7d')).columns.ambient_temperature_mean!.filter((v) => v !== null)).toEqual([7]);
  });

  it('has the contract\'s bucket count for each range, UTC-aligned, the last bucket holding now', async () => {
    await send('north_field', [reading(1)]);
    await server();
    const expected = { '24h': [96, 900, 3600], '7d': [168, 3600, 3600], '30d': [240, 10_800, 86_400], '1y': [1460, 21_600, 86_400] } as const;
    for (const [range, [count, bucket, rain]] of Object.entries(expected)) {
      const s = await series('north_field', range);
      expect(s.time).toHaveLength(count);
      expect(s.bucketSeconds).toBe(bucket);
      expect(s.rain.bucketSeconds).toBe(rain);
      expect(s.time.every((t, i) => t % bucket === 0 && (i === 0 || t - s.time[i - 1]! === bucket))).toBe(true);
      for (const column of Object.values(s.columns)) expect(column).toHaveLength(count);
      const nowS = fixture.time.now() / 1000;
      expect(s.time.at(-1)! <= nowS && nowS < s.time.at(-1)! + bucket).toBe(true);
      expect(Date.parse(s.to) / 1000).toBe(s.time.at(-1)! + bucket);
      expect(s.columns.wind_gust_speed_max!.at(-1)).toBe(20);
    }
  });

  it('gives no direction for a bucket where the wind was calm or the directions cancel', async () => {
    await send('north_field', [
      reading(3, { wind_direction: 90, wind_speed: 0 }),
      reading(20, { wind_direction: 90 }),
      reading(22, { wind_direction: 270 }),
      reading(50, { wind_direction: 359.8 }),
    ]);
    await server();
    const s = await series('north_field');
    expect(at(s, 'wind_direction_mean', 3)).toBeNull();
    expect(at(s, 'wind_direction_mean', 20)).toBeNull();
    expect(at(s, 'wind_direction_mean', 50)).toBe(0);
  });
});

describe('compared series', () => {
  it('puts one quantity of every listed station on one axis, leaving out hidden stations', async () => {
    await send('north_field', [reading(2, { wind_gust_speed: 41 }), reading(4, { wind_gust_speed: 55.56 })]);
    await send('top_barn', [reading(70, { wind_gust_speed: 12 })]);
    await send('gone', [reading(40 * 24 * 60)]);
    await server();
    const response = await app!.inject({ url: `${SERIES_PATHS.compare}?quantity=wind_gust_speed&range=7d` });
    expect(response.statusCode).toBe(200);
    const c = comparedSeries.parse(JSON.parse(response.body));
    expect(c.unit).toBe('km/h');
    expect(c.time).toHaveLength(168);
    expect(c.stations.map((s) => s.stationId)).toEqual(['north_field', 'top_barn']);
    const [north, barn] = c.stations;
    expect(north!.values.at(-1)).toBe(55.6);
    expect(barn!.values.at(-2)).toBe(12);
    expect(barn!.values.filter((v) => v !== null)).toHaveLength(1);
  });
});

describe('downloads', () => {
  it('gives every record of the window as CSV with ISO times and units in the header, rounded, streamed in chunks', async () => {
    // Three hours at 5 s: 2,160 records, more than one written chunk.
    const records = Array.from({ length: 2160 }, (_, i) => reading(i / 12, { ambient_temperature: 4 + i / 997, air_pressure: 1000 + i / 70, rainfall: i % 50 === 0 ? 0.2794 : 0 }));
    records[7]!.ground_temperature = null;
    await send('north_field', records);
    await send('top_barn', [reading(1)]);
    await server();
    const response = await app!.inject({ url: `${SERIES_PATHS.download('north_field', 'csv')}?range=24h` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe('attachment; filename="north_field-20231231T103700Z-20240101T103700Z.csv"');
    const [header, ...rows] = parseCsv(response.body);
    expect(header).toEqual([...DOWNLOAD_CSV_HEADER]);
    expect(header).toEqual(['time', 'ambient_temperature_c', 'ground_temperature_c', 'air_quality_pct', 'air_pressure_hpa', 'humidity_pct', 'wind_direction_deg', 'wind_speed_kmh', 'wind_gust_speed_kmh', 'rainfall_mm']);
    const oldestFirst = [...records].sort((a, b) => a.ts - b.ts);
    const round = (v: number | null, d: number) => (v === null ? '' : String(Math.round(v * 10 ** d) / 10 ** d));
    expect(rows).toEqual(
      oldestFirst.map((r) => [
        new Date(r.ts).toISOString(),
        round(r.ambient_temperature, 1),
        round(r.ground_temperature, 1),
        round(r.air_quality, 0),
        round(r.air_pressure, 1),
        round(r.humidity, 0),
        round(r.wind_direction, 0),
        round(r.wind_speed, 1),
        round(r.wind_gust_speed, 1),
        round(r.rainfall, 2),
      ]),
    );
    expect(rows.some((r) => r[2] === '')).toBe(true);
    expect(rows.filter((r) => r[9] === '0.28')).toHaveLength(44);
  });

  it('gives the same records as JSON, and takes from/to windows', async () => {
    await send('north_field', [reading(90, { ambient_temperature: 1.26 }), reading(60), reading(30, { ambient_temperature: -0.04 })]);
    await server();
    const from = new Date(fixture.time.now() - 100 * MIN).toISOString();
    const to = new Date(fixture.time.now() - 60 * MIN).toISOString();
    const response = await app!.inject({ url: `${SERIES_PATHS.download('north_field', 'json')}?from=${from}&to=${to}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toBe('attachment; filename="north_field-20240101T085700Z-20240101T093700Z.json"');
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({ stationId: 'north_field', from, to, units: { ambient_temperature: '°C', rainfall: 'mm', wind_direction: '°' } });
    // [from, to): the record at `to` is not in it.
    const { ts, ...fields } = reading(90);
    expect(body.records).toEqual([{ time: new Date(ts).toISOString(), ...fields, ambient_temperature: 1.3 }]);
    const all = JSON.parse((await app!.inject({ url: `${SERIES_PATHS.download('north_field', 'json')}?from=2023-12-31` })).body);
    expect(all.records.map((r: { ambient_temperature: number }) => r.ambient_temperature)).toEqual([1.3, 5, 0]);
    // A day as `to` includes that day, as a date form sends it: 1 January from its midnight to the next.
    const day = JSON.parse((await app!.inject({ url: `${SERIES_PATHS.download('north_field', 'json')}?from=2024-01-01&to=2024-01-01` })).body);
    expect(day).toMatchObject({ from: '2024-01-01T00:00:00.000Z', to: '2024-01-02T00:00:00.000Z' });
    expect(day.records).toHaveLength(3);
  });

  it('refuses a window with more records than a download holds, saying how many days to ask for', async () => {
    await send('north_field', Array.from({ length: 30 }, (_, i) => reading(i * 60)));
    const source = sourceFor();
    app = Fastify();
    registerWeatherData(app, { source, settings, log: silentLog, now: () => fixture.time.now(), maxDownloadRecords: 10 });
    app.addHook('onClose', async () => source.close());
    const response = await app.inject({ url: `${SERIES_PATHS.download('north_field', 'csv')}?range=7d` });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toBe('This window holds 30 records; a download holds at most 10. Ask for about 2 days at a time (from=…&to=…).');
    expect((await app.inject({ url: `${SERIES_PATHS.download('north_field', 'csv')}?range=24h` })).statusCode).toBe(400);
    const fits = await app.inject({ url: `${SERIES_PATHS.download('north_field', 'csv')}?from=2024-01-01T02:00:00Z` });
    expect(fits.statusCode).toBe(200);
    expect(parseCsv(fits.body)).toHaveLength(1 + 9);
  });
});
