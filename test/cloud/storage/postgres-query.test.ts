import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translateDatasetSql } from '../../../cloud/query/dataset-sql.ts';
import { POSTGRES } from '../../../cloud/query/postgres-dialect.ts';
import type { TranslatedQuery } from '../../../cloud/query/query-types.ts';
import { PostgresQueries } from '../../../cloud/storage/postgres-query.ts';
import { SqliteDatastores } from '../../../cloud/storage/sqlite-datastores.ts';
import { SqliteQueryRunner } from '../../../cloud/storage/sqlite-query-runner.ts';
import { createPostgresDatastore, type PostgresColumn } from '../helpers/postgres-datastore.ts';
import { Postgres } from '../helpers/postgres.ts';

// Issue 12: dataset SQL on PostgreSQL gives the CSV SQLite gives, byte for byte, over the same records;
// and each way a query can fail on PostgreSQL fails with SQLite's reason.

const t0 = Date.UTC(2024, 5, 1, 6);
const STATIONS = ['kew', 'wisley', 'rhs-"harlow", carr'];

/** Records as a pipeline stores them: numbers, text (with CSV-hostile characters), booleans, a nested map, NULLs. */
function records(): { record: Record<string, unknown>; arrival: number }[] {
  const out: { record: Record<string, unknown>; arrival: number }[] = [];
  for (let i = 0; i < 240; i += 1) {
    const ts = t0 + i * 1_800_000 + (i % 7) * 37;
    out.push({
      arrival: ts + 5000,
      record: {
        device_id: STATIONS[i % 3],
        ts,
        ambient_temperature: i % 11 === 0 ? null : Math.round((8 + 7 * Math.sin(i / 9) + (i % 5) * 0.1) * 10) / 10,
        rainfall: [0, 0.2794, 0.5588, 0.1, 0.2][i % 5],
        humidity: 40 + (i % 13) * 3.3,
        ok: i % 4 !== 0,
        note: i % 17 === 0 ? '=cmd|x, "quoted"' : `r${i}`,
        sensors: { bme280: i % 9 === 0 ? 'missing' : 'ok', ds18b20: 'ok' },
      },
    });
  }
  return out;
}

const WEATHER_COLUMNS: PostgresColumn[] = [
  ['device_id', 'text'], ['ts', 'double precision'], ['ambient_temperature', 'double precision'], ['rainfall', 'double precision'],
  ['humidity', 'double precision'], ['ok', 'boolean'], ['note', 'text'], ['sensors', 'jsonb'],
];

let server: Postgres;
let pool: pg.Pool;
let queries: PostgresQueries;
let dir: string;
let sqlite: SqliteQueryRunner;
const caps = { maxRows: 100_000, maxBytes: 16 * 1024 * 1024 };

beforeAll(async () => {
  server = await Postgres.start();
  pool = new pg.Pool({ connectionString: await server.createDatabase('pgquery'), max: 6 });
  // Idle connections end when the server stops after the suite.
  pool.on('error', () => undefined);
  queries = new PostgresQueries(pool, caps);
  await queries.prepare();
  dir = mkdtempSync(join(tmpdir(), 'hedgerow-pgquery-'));
  const datastores = new SqliteDatastores(join(dir, 'datastores.sqlite'));
  datastores.create('weather', { time: ['ts'], device: ['device_id'] });
  datastores.insert('weather', records());
  datastores.close();
  sqlite = new SqliteQueryRunner(join(dir, 'datastores.sqlite'), { concurrency: 1, ...caps });
  await createPostgresDatastore(pool, 'weather', WEATHER_COLUMNS, records());
}, 180_000);

afterAll(async () => {
  await sqlite?.stop();
  await pool?.end();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

let files = 0;
const outFile = () => join(dir, `out-${(files += 1)}.csv`);

async function csvOn(backend: 'sqlite' | 'postgres', sql: string): Promise<string> {
  const q = translateDatasetSql(sql, { datastores: ['weather'], ...(backend === 'postgres' ? { dialect: POSTGRES } : {}) });
  const file = outFile();
  if (backend === 'sqlite') await sqlite.run(q, file, 30_000);
  else await queries.run(q, file, 30_000);
  return readFileSync(file, 'utf8');
}

describe('dataset CSV on PostgreSQL is SQLite\'s, byte for byte', () => {
  const same: [string, string][] = [
    ['every attribute, with __dt', 'SELECT * FROM weather ORDER BY ts'],
    ['a daily summary (weather_daily\'s shape)', `SELECT device_id, date_trunc('day', from_unixtime(ts / 1000)) AS day, count(*) AS n, min(ambient_temperature) AS lo,
      max(ambient_temperature) AS hi, avg(ambient_temperature) AS mean, round(avg(ambient_temperature), 1) AS mean1, sum(rainfall) AS rain,
      stddev(humidity) AS sd, approx_percentile(humidity, 0.5) AS median, count_if(ok) AS oks FROM weather GROUP BY 1, 2 ORDER BY 1, 2`],
    ['sums of decimals (SQLite sums with Kahan-Babuska-Neumaier)', 'SELECT sum(rainfall) AS rain, avg(rainfall) AS mean, sum(humidity) AS h FROM weather'],
    ['text of numbers and timestamps', `SELECT CAST(ambient_temperature AS varchar) AS t, CAST(humidity * 1e20 AS varchar) AS big, concat(device_id, ':', CAST(ts / 1000 AS varchar)) AS label,
      CAST(ambient_temperature AS bigint) AS i, date_format(from_unixtime(ts / 1000), '%Y-%m-%d %H:%i:%s (%j)') AS f, from_unixtime(ts / 1000) AS at,
      to_iso8601(from_unixtime(ts / 1000)) AS iso FROM weather ORDER BY ts LIMIT 40`],
    ['rounding, division by zero, % on decimals, NULLs first', `SELECT round(humidity / 3, 2) AS r2, round(ambient_temperature) AS r0, humidity / (ts - ts) AS nothing,
      ambient_temperature % 3 AS m, mod(humidity, 7) AS fm, ambient_temperature FROM weather ORDER BY ambient_temperature, ts LIMIT 30`],
    ['expressions without AS are named by their SQL text, as SQLite does', `SELECT count(*), max(humidity), date_trunc('hour', from_unixtime(max(ts) / 1000)) FROM weather`],
    ['booleans, LIKE, regexp, JSON', `SELECT ok, NOT ok AS bad, note LIKE 'R1%' AS r1, regexp_like(note, '^r[0-9]+$') AS plain, json_extract_scalar(sensors, '$.bme280') AS bme,
      ambient_temperature IS DISTINCT FROM NULL AS known FROM weather ORDER BY ts DESC LIMIT 25`],
    ['windows, deltaTime-like filters, OFFSET', `SELECT device_id, ts, row_number() OVER (PARTITION BY device_id ORDER BY ambient_temperature DESC, ts) AS rank_hot,
      lag(ambient_temperature) OVER (PARTITION BY device_id ORDER BY ts) AS before FROM weather
      WHERE from_unixtime(ts / 1000) >= TIMESTAMP '2024-06-02 00:00:00' - INTERVAL '6' HOUR ORDER BY device_id, ts LIMIT 50 OFFSET 5`],
    ['a subquery in FROM without an alias', 'SELECT count(*) AS n FROM (SELECT device_id FROM weather GROUP BY device_id)'],
  ];
  for (const [what, sql] of same) {
    it(what, async () => {
      const [fromSqlite, fromPostgres] = [await csvOn('sqlite', sql), await csvOn('postgres', sql)];
      expect(fromSqlite.split('\r\n').length).toBeGreaterThan(1);
      expect(fromPostgres).toBe(fromSqlite);
    });
  }

  it('sums 0.1 + 0.2 + 0.3 to 0.6 as SQLite does, where a plain float sum gives 0.6000000000000001', async () => {
    const sql = 'SELECT sum(x) AS s, avg(x) AS a FROM (SELECT rainfall * 0 + 0.1 AS x FROM weather WHERE ts = (SELECT min(ts) FROM weather) UNION ALL SELECT 0.2 UNION ALL SELECT 0.3)';
    expect(await csvOn('postgres', sql)).toBe('s,a\r\n0.6,0.19999999999999998\r\n');
    expect(await csvOn('sqlite', sql)).toBe('s,a\r\n0.6,0.19999999999999998\r\n');
  });
});

describe('where PostgreSQL differs (documented in the README)', () => {
  it('nested values print in jsonb\'s key order (shorter keys first), SQLite keeps the record\'s', async () => {
    const client = await pool.connect();
    try {
      await client.query("CREATE VIEW nested AS SELECT '{\"wind\":1,\"ai\":2}'::jsonb AS sensors");
    } finally {
      client.release();
    }
    const q = translateDatasetSql('SELECT sensors FROM nested', { datastores: ['nested'], dialect: POSTGRES });
    expect(await queries.rows(q, { timeoutMs: 10_000, maxRows: 10 })).toEqual({ columns: ['sensors'], rows: [['{"ai":2,"wind":1}']] });
  });

  it('attribute names are matched exactly (SQLite ignores their case), and a month added at a month end stays in the month', async () => {
    expect(await queries.check(translated('SELECT HUMIDITY FROM weather'))).toMatch(/^no such column: "HUMIDITY"/);
    const q = translated("SELECT date_add('month', 1, TIMESTAMP '2024-01-31 12:00:00') AS pg, TIMESTAMP '2024-01-31 12:00:00' + INTERVAL '1' MONTH AS too FROM weather LIMIT 1");
    expect((await queries.rows(q, { timeoutMs: 10_000, maxRows: 1 })).rows).toEqual([['2024-02-29 12:00:00.000', '2024-02-29 12:00:00.000']]);
    const onSqlite = await csvOn('sqlite', "SELECT date_add('month', 1, TIMESTAMP '2024-01-31 12:00:00') AS sqlite, HUMIDITY FROM weather LIMIT 1");
    expect(onSqlite).toMatch(/^sqlite,humidity\r\n2024-03-02 12:00:00\.000,/);
  });

  it('a column neither grouped nor aggregated is refused at check, as Presto refuses it (SQLite takes any row\'s value)', async () => {
    const q = translateDatasetSql('SELECT device_id, ts FROM weather GROUP BY device_id', { datastores: ['weather'], dialect: POSTGRES });
    expect(await queries.check(q)).toMatch(/column "weather\.ts" must appear in the GROUP BY clause/);
  });
});

const translated = (sql: string): TranslatedQuery => translateDatasetSql(sql, { datastores: ['weather'], dialect: POSTGRES });
/** 240^4 rows: minutes of work, so only a limit or a cancel ends it. */
const SLOW = 'SELECT count(*) AS n FROM weather a, weather b, weather c, weather d WHERE a.humidity + b.humidity > c.humidity - d.humidity';

async function runningQueries(): Promise<number> {
  const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%\"weather\" AS \"d\"%' AND pid <> pg_backend_pid()");
  return Number(rows[0]!.n);
}

describe('PostgresQueries fails as the SQLite runner does', () => {
  it('checks without running: accepts a query, names a missing column in SQLite\'s words, gives PostgreSQL\'s reason otherwise', async () => {
    expect(await queries.check(translated('SELECT device_id, avg(humidity) AS h FROM weather GROUP BY device_id'))).toBeUndefined();
    expect(await queries.check(translated('SELECT not_yet_an_attribute FROM weather'))).toMatch(/^no such column: "not_yet_an_attribute"/);
    expect(await queries.check(translated('SELECT humidity + device_id FROM weather'))).toMatch(/operator does not exist: double precision \+ text/);
    expect(await runningQueries()).toBe(0);
  });

  it('stops a query past its time limit with the timeout reason and leaves no file', async () => {
    const file = outFile();
    await expect(queries.run(translated(SLOW), file, 300)).rejects.toThrow(/ran longer than 300 ms and was stopped.*cloud\.queryTimeoutMs/);
    expect(existsSync(file) || existsSync(`${file}.partial`)).toBe(false);
    expect(await csvOn('postgres', 'SELECT count(*) AS n FROM weather')).toBe('n\r\n240\r\n');
  });

  it('fails past maxRows with the cap\'s reason, naming the setting, and leaves no file', async () => {
    const capped = new PostgresQueries(pool, { maxRows: 5, maxBytes: caps.maxBytes });
    const file = outFile();
    await expect(capped.run(translated('SELECT ts FROM weather'), file, 10_000)).rejects.toThrow(/more than 5 rows, the cap.*raise cloud\.queryResultMaxRows/);
    expect(existsSync(file) || existsSync(`${file}.partial`)).toBe(false);
    await capped.run(translated('SELECT ts FROM weather ORDER BY ts LIMIT 5'), file, 10_000);
    expect(readFileSync(file, 'utf8').split('\r\n')).toHaveLength(7);
    await expect(capped.rows(translated('SELECT ts FROM weather'), { timeoutMs: 10_000, maxRows: 3 })).rejects.toThrow(/more than 3 rows/);
  });

  it('fails past maxBytes with the cap\'s reason', async () => {
    const capped = new PostgresQueries(pool, { maxRows: caps.maxRows, maxBytes: 2048 });
    await expect(capped.run(translated('SELECT * FROM weather'), outFile(), 10_000)).rejects.toThrow(/more than 2,048 bytes, the cap.*raise cloud\.queryResultMaxBytes/);
  });

  it('cancelAll ends a running query ("the query process ended"), even with every pooled connection busy, and the next query runs', async () => {
    const busy = new pg.Pool({ connectionString: pool.options.connectionString, max: 1 });
    const onBusy = new PostgresQueries(busy, caps);
    try {
      const failed = onBusy.run(translated(SLOW), outFile(), 120_000).then(() => 'finished', (e: Error) => e.message);
      while ((await runningQueries()) === 0) await new Promise((r) => setTimeout(r, 50));
      await onBusy.cancelAll();
      expect(await failed).toMatch(/query process ended/);
      expect(await runningQueries()).toBe(0);
      expect((await onBusy.rows(translated('SELECT count(*) AS n FROM weather'), { timeoutMs: 10_000, maxRows: 1 })).rows).toEqual([[240]]);
    } finally {
      await busy.end();
    }
  });

  it('runs read-only, whatever SQL reaches it', async () => {
    await expect(queries.run({ sql: 'DELETE FROM "__ds_weather"', params: [], datastores: [] }, outFile(), 10_000)).rejects.toThrow(/read-only transaction/);
    expect(await csvOn('postgres', 'SELECT count(*) AS n FROM weather')).toBe('n\r\n240\r\n');
  });

  it('two workers preparing at once both succeed (the advisory lock), and prepare again is a no-op', async () => {
    const url = await server.createDatabase('prepare');
    const pools = [new pg.Pool({ connectionString: url, max: 2 }), new pg.Pool({ connectionString: url, max: 2 })];
    try {
      await Promise.all(pools.map((p) => new PostgresQueries(p, caps).prepare()));
      await new PostgresQueries(pools[0]!, caps).prepare();
      const { rows } = await pools[1]!.query("SELECT count(*)::int AS n FROM pg_proc WHERE pronamespace = 'hedgerow_sql'::regnamespace");
      expect(rows[0].n).toBeGreaterThan(30);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});
