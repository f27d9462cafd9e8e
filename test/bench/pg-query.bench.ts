// Dataset SQL on PostgreSQL beside SQLite: the weather_daily query of cloud/resources/default.json over
// the same rows in both (a SQLite datastore file through the SQLite query process, and a PostgreSQL
// datastore in contract 6's layout through PostgresQueries), both writing the CSV, in the same run.
// Modest on purpose (the machine is shared): 10 stations x 14 days, one row a minute = 201,600 rows.
// Run: npm run bench -- pg-query [stations] [days]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { readResourceFile } from '../../cloud/engine/resource-file.ts';
import { translateDatasetSql } from '../../cloud/query/dataset-sql.ts';
import { POSTGRES } from '../../cloud/query/postgres-dialect.ts';
import { PostgresQueries } from '../../cloud/storage/postgres-query.ts';
import { SqliteDatastores } from '../../cloud/storage/sqlite-datastores.ts';
import { SqliteQueryRunner } from '../../cloud/storage/sqlite-query-runner.ts';
import { createPostgresDatastore, type DatastoreRecord, type PostgresColumn } from '../cloud/helpers/postgres-datastore.ts';
import { Postgres } from '../cloud/helpers/postgres.ts';

const STATIONS = Number(process.argv[2] ?? 10);
const DAYS = Number(process.argv[3] ?? 14);
const ROWS = STATIONS * DAYS * 1440;
const START = Date.UTC(2024, 5, 1);
const ROUNDS = 5;
const DATASTORE = 'weather_datastore';
const caps = { maxRows: 1_000_000, maxBytes: 256 * 1024 * 1024 };

const dataset = readResourceFile('cloud/resources/default.json').datasets.find((d) => d.datasetName === 'weather_daily')!;
const sqlQuery = dataset.actions[0]!.queryAction!.sqlQuery;

const COLUMNS: PostgresColumn[] = [
  ['ts', 'double precision'], ['ambient_temperature', 'double precision'], ['humidity', 'double precision'], ['rainfall', 'double precision'],
  ['wind_gust_speed', 'double precision'], ['sensors', 'jsonb'], ['device_id', 'text'],
];

function rows(): DatastoreRecord[] {
  const out: DatastoreRecord[] = [];
  for (let i = 0; i < ROWS; i += 1) {
    const station = i % STATIONS;
    const minute = Math.floor(i / STATIONS);
    const ts = START + minute * 60_000;
    out.push({
      arrival: ts + 2000,
      record: {
        ts,
        ambient_temperature: Math.round((9 + 6 * Math.sin(minute / 229) + station * 0.3) * 100) / 100,
        humidity: Math.round((70 + 12 * Math.cos(minute / 229)) * 10) / 10,
        rainfall: minute % 89 === 0 ? 0.2794 : 0,
        wind_gust_speed: Math.round(Math.abs(30 * Math.sin(minute / 47)) * 10) / 10,
        sensors: { bme280: 'ok', ds18b20: 'ok' },
        device_id: `station_${String(station + 1).padStart(2, '0')}`,
      },
    });
  }
  return out;
}

const seconds = (ns: bigint) => Number(ns) / 1e9;

const dir = mkdtempSync(join(tmpdir(), 'hedgerow-pg-query-bench-'));
const server = await Postgres.start();
const pool = new pg.Pool({ connectionString: await server.createDatabase('bench'), max: 4 });
pool.on('error', () => undefined);
const sqlite = new SqliteQueryRunner(join(dir, 'datastores.sqlite'), { concurrency: 1, ...caps });
try {
  const data = rows();
  const datastores = new SqliteDatastores(join(dir, 'datastores.sqlite'));
  datastores.create(DATASTORE, { time: ['ts'], device: ['device_id'] });
  for (let from = 0; from < data.length; from += 10_000) datastores.insert(DATASTORE, data.slice(from, from + 10_000));
  datastores.close();
  await createPostgresDatastore(pool, DATASTORE, COLUMNS, data);
  await pool.query(`VACUUM ANALYZE "__ds_${DATASTORE}"`);
  const queries = new PostgresQueries(pool, caps);
  await queries.prepare();

  const onSqlite = translateDatasetSql(sqlQuery, { datastores: [DATASTORE] });
  const onPostgres = translateDatasetSql(sqlQuery, { datastores: [DATASTORE], dialect: POSTGRES });
  const files = { sqlite: join(dir, 'sqlite.csv'), postgres: join(dir, 'postgres.csv') };
  // Warm-up: the query process starts, both sides have their pages cached.
  await sqlite.run(onSqlite, files.sqlite, 600_000);
  await queries.run(onPostgres, files.postgres, 600_000);
  const times = { sqlite: [] as number[], postgres: [] as number[] };
  for (let round = 0; round < ROUNDS; round += 1) {
    let started = process.hrtime.bigint();
    await sqlite.run(onSqlite, files.sqlite, 600_000);
    times.sqlite.push(seconds(process.hrtime.bigint() - started));
    started = process.hrtime.bigint();
    await queries.run(onPostgres, files.postgres, 600_000);
    times.postgres.push(seconds(process.hrtime.bigint() - started));
  }
  const same = readFileSync(files.sqlite, 'utf8') === readFileSync(files.postgres, 'utf8');
  const best = { sqlite: Math.min(...times.sqlite), postgres: Math.min(...times.postgres) };
  const resultRows = readFileSync(files.postgres, 'utf8').trim().split('\r\n').length - 1;
  console.log(`weather_daily over ${ROWS.toLocaleString('en-US')} rows (${STATIONS} stations, ${DAYS} days, one row a minute), best of ${ROUNDS}, CSV written`);
  console.log(`  SQLite (query process)      : ${best.sqlite.toFixed(3)} s`);
  console.log(`  PostgreSQL (PostgresQueries): ${best.postgres.toFixed(3)} s  (${(best.postgres / best.sqlite).toFixed(2)} x SQLite)`);
  console.log(`  result: ${resultRows} rows; CSV identical on both: ${same ? 'yes' : 'NO'}`);
  console.log(`  runs (s): SQLite ${times.sqlite.map((t) => t.toFixed(3)).join(', ')}; PostgreSQL ${times.postgres.map((t) => t.toFixed(3)).join(', ')}`);
  if (!same) process.exitCode = 1;
} finally {
  await sqlite.stop();
  await pool.end();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
