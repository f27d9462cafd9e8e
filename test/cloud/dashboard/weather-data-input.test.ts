import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { comparedSeries, SERIES_PATHS, stationSeries } from '../../../cloud/dashboard/series-contract.ts';
import { weatherPageSettings } from '../../../cloud/dashboard/weather-page-settings.ts';
import type { WeatherSource } from '../../../cloud/dashboard/weather-source.ts';
import { parseCsv } from '../../../cloud/query/csv.ts';
import { datastoreRows, FakeTime, startEngine, type EngineFixture } from '../engine/engine-fixture.ts';
import { weatherApp } from './weather-app.ts';
import { envelopes, weatherDay } from './weather-records.ts';

/** What the data endpoints answer to bad input, through inject() and over real HTTP. */

let fixture: EngineFixture;
let app: FastifyInstance | undefined;
const settings = weatherPageSettings.parse({ timeZone: 'UTC' });

beforeEach(async () => {
  fixture = await startEngine({ resourceFiles: ['cloud/resources/default.json'] }, new FakeTime(Date.UTC(2024, 5, 1, 12)));
  for (const e of envelopes('north_field', weatherDay({ end: fixture.time.now() - 60_000, hours: 6 }))) await fixture.engine.handleMqttMessage(e.topic, e.payload);
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  await fixture.close();
});

const rowCount = async () => (await datastoreRows(fixture.engine, 'weather_datastore')).length;

const series = SERIES_PATHS.station('north_field');
const csv = SERIES_PATHS.download('north_field', 'csv');
const json = SERIES_PATHS.download('north_field', 'json');
const long = 'A'.repeat(10_000);
const drop = encodeURIComponent("'; DROP TABLE weather_datastore; --");

/** [url, status, words the message must hold] */
const BAD: Array<[string, number, string]> = [
  [SERIES_PATHS.station('south_field'), 404, 'No station "south_field" has reported'],
  [SERIES_PATHS.download('south_field', 'csv'), 404, 'No station "south_field" has reported'],
  [SERIES_PATHS.download('south_field', 'json'), 404, '/public/stations.json'],
  [`/public/stations/${drop}/series.json`, 400, 'The station id is not valid: stationId: use 1-64 letters'],
  [`/public/stations/north_field%00/records.csv`, 400, 'The station id is not valid'],
  [`/public/stations/${'x'.repeat(1000)}/series.json`, 400, 'The station id is not valid'],
  [`${series}?range=forever`, 400, 'range is one of 24h, 7d, 30d, 1y'],
  [`${series}?range=${drop}`, 400, 'range is one of'],
  [`${series}?range=%00`, 400, 'range is one of'],
  [`${series}?range=${long}`, 400, 'range is one of'],
  [`${series}?range=7d&range=30d`, 400, 'Give range once'],
  [`${series}?range[]=7d`, 400, 'unknown parameter "range[]"'],
  [`${series}?rnage=7d`, 400, 'unknown parameter "rnage"'],
  [`${series}?${long}=1`, 400, 'unknown parameter "AAAA'],
  [`${SERIES_PATHS.compare}`, 400, 'quantity is one of ambient_temperature'],
  [`${SERIES_PATHS.compare}?quantity=rainfall`, 400, 'quantity is one of'],
  [`${SERIES_PATHS.compare}?quantity=humidity&quantity=humidity`, 400, 'Give quantity once'],
  [`${SERIES_PATHS.compare}?quantity=${drop}&range=${drop}`, 400, 'quantity is one of'],
  [`${csv}?from=2024-06-01T00:00:00Z&to=2024-05-01T00:00:00Z`, 400, 'must be before to'],
  [`${csv}?from=2024-06-01T00:00:00Z&to=2024-06-01T00:00:00Z`, 400, 'must be before to'],
  [`${csv}?from=0001-01-01T00:00:00Z&to=2024-01-01T00:00:00Z`, 400, 'before 1970'],
  [`${csv}?from=2024-01-01&to=9999-12-31`, 400, 'is in the future; leave to out'],
  [`${csv}?from=2022-01-01&to=2024-01-01`, 400, 'at most 366 days; this asks for 731'],
  [`${json}?from=yesterday`, 400, 'from is an ISO 8601 time such as 2026-01-31T06:00:00Z'],
  [`${json}?from=2024-02-30`, 400, 'from is an ISO 8601 time'],
  [`${json}?from=2024-05-01T00:00:00`, 400, 'from is an ISO 8601 time'],
  [`${json}?from=${drop}`, 400, 'from is an ISO 8601 time'],
  [`${json}?to=2024-05-01`, 400, 'Give from as well as to'],
  [`${json}?range=7d&from=2024-05-01`, 400, 'either range, or from and to'],
  [`${json}?range=7d&from=2024-05-01&from=2024-05-02`, 400, 'Give from once'],
];

describe('bad input', () => {
  it.each(BAD.map(([url, status, words]) => ({ name: url.length > 100 ? `${url.slice(0, 100)}… (${url.length} chars)` : url, url, status, words })))('$name → $status', async ({ url, status, words }) => {
    app = await weatherApp(fixture, settings);
    const before = await rowCount();
    const response = await app.inject({ url });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    const { message } = JSON.parse(response.body) as { message: string };
    expect(message).toContain(words);
    expect(message.length).toBeLessThan(400);
    expect(response.body).not.toMatch(/\n\s+at |Error:|SQLITE|ZodError/);
    expect(await rowCount()).toBe(before);
  });

  it('refuses a 10 kB station id before routing, as the API refuses any over-long path parameter', async () => {
    app = await weatherApp(fixture, settings);
    const response = await app.inject({ url: `/public/stations/${long}/records.csv` });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toContain('exceeding the max param length');
  });

  it('answers 503 with a plain message, not a 500, when the datastore cannot be read', async () => {
    const broken: WeatherSource = {
      stationIds: async () => [],
      latest: async () => ({ stationId: 'north_field', ts: fixture.time.now(), values: {} as never, sensors: {} }),
      buckets: async () => [],
      series: async () => {
        throw new Error('SQLITE_CORRUPT: database disk image is malformed');
      },
      countRecords: async () => {
        throw new Error('SQLITE_IOERR: disk I/O error');
      },
      records: async function* () {},
      recordsSince: async () => [],
      close: async () => undefined,
    };
    app = await weatherApp(fixture, settings, broken);
    for (const url of [series, csv]) {
      const response = await app.inject({ url });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('60');
      expect(JSON.parse(response.body).message).toBe('The weather data could not be read just now. Try again in a minute.');
      expect(response.body).not.toContain('SQLITE');
    }
  });
});

describe('over real HTTP', () => {
  it('serves the series, the comparison and both downloads, and refuses bad input the same way', async () => {
    app = await weatherApp(fixture, settings);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const get = (path: string) => fetch(`${address}${path}`, { signal: AbortSignal.timeout(20_000) });

    const s = await get(`${series}?range=7d`);
    expect(s.status).toBe(200);
    expect(s.headers.get('cache-control')).toBe('public, max-age=30');
    const parsed = stationSeries.parse(await s.json());
    expect(parsed.columns.ambient_temperature_max!.filter((v) => v !== null)).toHaveLength(6);

    const c = comparedSeries.parse(await (await get(`${SERIES_PATHS.compare}?quantity=ambient_temperature`)).json());
    expect(c.stations.map((x) => x.stationId)).toEqual(['north_field']);

    const file = await get(`${csv}?from=2024-06-01T06:00:00Z`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="north_field-20240601T060000Z-20240601T120000Z.csv"');
    const rows = parseCsv(await file.text());
    expect(rows[0]![0]).toBe('time');
    // weatherDay: one record every 10 minutes for 6 hours, the last one a minute ago.
    expect(rows).toHaveLength(1 + 36);
    expect(rows[1]![0]).toBe('2024-06-01T06:09:00.000Z');

    const body = (await (await get(`${json}?range=24h`)).json()) as { records: unknown[] };
    expect(body.records).toHaveLength(36);

    const bad = await get(`${series}?range=7d&range=1y`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: 'Give range once, not several times.' });
  });
});
