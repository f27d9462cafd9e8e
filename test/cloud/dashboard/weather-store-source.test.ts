import Fastify, { type FastifyInstance } from 'fastify';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SERIES_PATHS, stationSeries } from '../../../cloud/dashboard/series-contract.ts';
import { registerWeatherData } from '../../../cloud/dashboard/weather-data-routes.ts';
import { weatherPageSettings } from '../../../cloud/dashboard/weather-page-settings.ts';
import { DATASTORES_FILE, StoreWeatherSource, type StoreWeatherSourceOptions } from '../../../cloud/dashboard/weather-source.ts';
import { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import { SqliteStore } from '../../../cloud/storage/sqlite-store.ts';
import type { Envelope, WeatherRecord } from '../../../hardware/core/contract.ts';
import { silentLog } from '../api/helpers.ts';
import { FakeTime } from '../engine/engine-fixture.ts';
import { TEST_STORAGE, testStorage } from '../helpers/test-storage.ts';
import { ALL_OK } from './weather-records.ts';

/**
 * The page reads only through the storage interface: the engine keeps its store in a folder the page
 * is never told about (not the engine's data folder), and the page's source gets nothing but a spy
 * that passes queryRows through and records each query. Everything the page shows must come from there.
 */

const MIN = 60_000;
const NOW = Date.UTC(2024, 0, 1, 10, 37);
let dataDir: string;
let storeDir: string;
let engine: AnalyticsEngine;
let app: FastifyInstance;
let queries: string[];
let source: StoreWeatherSource;

function reading(minutesAgo: number, fields: Partial<WeatherRecord>): WeatherRecord {
  return {
    ts: NOW - minutesAgo * MIN, ambient_temperature: 5, ground_temperature: 6, air_quality: 12, air_pressure: 1012, humidity: 80,
    wind_direction: 225, wind_speed: 9, wind_gust_speed: 20, rainfall: 0, sensors: { ...ALL_OK }, ...fields,
  };
}

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'hedgerow-page-data-'));
  storeDir = mkdtempSync(join(tmpdir(), 'hedgerow-page-store-'));
  const settings = cloudSettings.parse({ dataDir, ...await testStorage(dataDir), resourceFiles: ['cloud/resources/default.json'], mqtt: { enabled: false } });
  // On PostgreSQL the store is a database: no file anywhere the page could open.
  const ownStore = TEST_STORAGE === 'sqlite' ? { store: new SqliteStore(storeDir) } : {};
  engine = new AnalyticsEngine({ settings, log: pino({ level: 'silent' }), clock: new FakeTime(NOW), ...ownStore });
  await engine.start();
  queries = [];
  const store = engine.store;
  const spy: StoreWeatherSourceOptions['store'] = {
    sqlDialect: store.sqlDialect,
    queryRows: (query, options) => {
      queries.push(query.sql);
      return store.queryRows(query, options);
    },
  };
  source = new StoreWeatherSource({ store: spy });
  app = Fastify();
  registerWeatherData(app, { source, settings: weatherPageSettings.parse({ timeZone: 'UTC' }), log: silentLog, now: () => NOW });
});

afterEach(async () => {
  await app.close();
  await source.close();
  await engine.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(storeDir, { recursive: true, force: true });
});

async function send(stationId: string, records: WeatherRecord[]): Promise<void> {
  const envelope: Envelope<WeatherRecord> = { messageId: `m-${stationId}`, deviceId: stationId, seq: 1, sentAt: NOW, records };
  await engine.handleMqttMessage(`dt/weather/${stationId}/reading`, Buffer.from(JSON.stringify(envelope)));
}

it('shows stations, readings, series and downloads from a store whose files the page was never told about', async () => {
  await send('north_field', [reading(5, { ambient_temperature: 1, rainfall: 0.2794 }), reading(3, { ambient_temperature: 2 }), reading(1, { ambient_temperature: 6 })]);
  await send('south_field', [reading(2, { ambient_temperature: -3, sensors: { ...ALL_OK, ds18b20: 'missing' }, ground_temperature: null })]);
  // The engine's data folder has no datastores: there is no file the page could have opened itself.
  expect(existsSync(join(dataDir, DATASTORES_FILE))).toBe(false);
  if (TEST_STORAGE === 'sqlite') expect(readdirSync(storeDir)).toContain(DATASTORES_FILE);

  expect(await source.stationIds(10)).toEqual(['north_field', 'south_field']);
  expect(await source.latest('south_field')).toMatchObject({ ts: NOW - 2 * MIN, values: { ambient_temperature: -3, ground_temperature: null }, sensors: { ds18b20: 'missing' } });
  expect(await source.countRecords('north_field', NOW - 60 * MIN, NOW)).toBe(3);
  const [bucket] = await source.buckets('north_field', NOW - 60 * MIN, NOW, 3600_000);
  expect(bucket).toMatchObject({ index: 0, count: 3, airMin: 1, airMean: 3, rain: 0.2794 });
  expect((await source.recordsSince('north_field', NOW - 4 * MIN, 10)).map((r) => r.values.ambient_temperature)).toEqual([2, 6]);

  const response = await app.inject({ url: `${SERIES_PATHS.station('north_field')}?range=24h` });
  expect(response.statusCode).toBe(200);
  const series = stationSeries.parse(JSON.parse(response.body));
  expect(series.columns.ambient_temperature_min!.filter((v) => v !== null)).toEqual([1]);
  expect(series.columns.ambient_temperature_max!.filter((v) => v !== null)).toEqual([6]);
  const download = await app.inject({ url: `${SERIES_PATHS.download('north_field', 'json')}?range=24h` });
  expect(download.statusCode).toBe(200);
  expect((JSON.parse(download.body) as { records: { ambient_temperature: number }[] }).records.map((r) => r.ambient_temperature)).toEqual([1, 2, 6]);

  // Every read went through queryRows, and each one reads the datastore's view, never its table.
  expect(queries.length).toBeGreaterThanOrEqual(8);
  for (const sql of queries) {
    expect(sql).toContain('"weather_datastore"');
    expect(sql).not.toContain('__ds_');
  }
});

it('answers empty while the datastore has no station or time column yet, then sees the records once they come', async () => {
  expect(await source.stationIds(10)).toEqual([]);
  expect(await source.latest('north_field')).toBeUndefined();
  await send('north_field', [reading(1, { ambient_temperature: 4 })]);
  expect(await source.stationIds(10)).toEqual(['north_field']);
  expect((await source.latest('north_field'))?.values.ambient_temperature).toBe(4);
});
