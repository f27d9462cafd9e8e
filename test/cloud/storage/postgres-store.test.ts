import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryableStorageError } from '../../../cloud/storage/postgres-errors.ts';
import { POSTGRES_MIGRATIONS, migratePostgres } from '../../../cloud/storage/postgres-migrations.ts';
import { PostgresStore } from '../../../cloud/storage/postgres-store.ts';
import { Postgres, hasPostgres } from '../helpers/postgres.ts';
import { cloudStoreConformance } from './cloud-store-conformance.ts';

// One server for the whole file; every test (and each conformance case) gets a fresh database.
let server: Postgres | undefined;
const started = hasPostgres() ? Postgres.start().then((s) => (server = s)) : undefined;
afterAll(async () => {
  await server?.stop();
}, 60_000);

async function freshStore(): Promise<{ store: PostgresStore; url: string }> {
  const url = await (await started!).createDatabase('store');
  const store = new PostgresStore({ url, poolSize: 4 });
  await store.open();
  return { store, url };
}

/** Two store objects on one fresh database: two workers. */
async function withTwoStores(work: (a: PostgresStore, b: PostgresStore, url: string) => Promise<void>): Promise<void> {
  const { store: a, url } = await freshStore();
  const b = new PostgresStore({ url, poolSize: 4 });
  await b.open();
  try {
    await work(a, b, url);
  } finally {
    await a.close();
    await b.close();
  }
}

async function viewRows(url: string, sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query({ text: sql, rowMode: 'array' });
    return { columns: result.fields.map((f) => f.name), rows: result.rows as unknown[][] };
  } finally {
    await client.end();
  }
}

describe.runIf(hasPostgres())('PostgreSQL store', () => {
  beforeAll(async () => {
    await started;
  }, 120_000);

  cloudStoreConformance('PostgreSQL', async () => (await freshStore()).store, { datasetSql: false });

  it('shows each datastore as a view of typed columns in order of appearance, without altering the table per attribute', async () => {
    const { store, url } = await freshStore();
    try {
      await store.createDatastoreStorage('weather', { time: ['ts'], device: ['station'] });
      await store.insertDatastoreRows('weather', [{ record: { station: 'n', temp: 12.5, ok: true, extra: { a: [1] } }, arrival: Date.UTC(2024, 0, 2, 5) }]);
      // A value of another JSON type than its column never fails a read: 'warm' in a number column shows NULL, 7 in a boolean true.
      await store.insertDatastoreRows('weather', [{ record: { station: 's', temp: 'warm', ok: 7, wind: 3, ts: 5 }, arrival: Date.UTC(2024, 0, 3, 5) }]);
      const view = await viewRows(url, 'SELECT * FROM weather ORDER BY station');
      expect(view.columns).toEqual(['station', 'temp', 'ok', 'extra', 'wind', 'ts', '__dt']);
      expect(view.rows).toEqual([
        ['n', 12.5, true, { a: [1] }, null, null, '2024-01-02 00:00:00.000'],
        ['s', null, true, null, 3, 5, '2024-01-03 00:00:00.000'],
      ]);
      const table = await viewRows(url, "SELECT column_name FROM information_schema.columns WHERE table_name = '__ds_weather' ORDER BY ordinal_position");
      expect(table.rows.flat()).toEqual(['__seq', '__arrival', '__record', 'station', 'ts']);
      const indexes = await viewRows(url, "SELECT indexname FROM pg_indexes WHERE tablename = '__ds_weather' ORDER BY indexname");
      expect(indexes.rows.flat()).toEqual(expect.arrayContaining(['__ds_weather_station_by_time', '__ds_weather_ts', '__ds_weather__arrival']));
    } finally {
      await store.close();
    }
  });

  it("refuses a datastore named like one of Hedgerow's own tables, saying what to do, and leaves that table alone", async () => {
    const { store } = await freshStore();
    try {
      await expect(store.createDatastoreStorage('Alerts', { time: [], device: [] })).rejects.toThrow(/"Alerts" is taken by one of Hedgerow's own tables on PostgreSQL; choose another name/);
      expect(await store.listAlerts('s1')).toEqual([]);
      await store.createDatastoreStorage('alerts_datastore', { time: [], device: [] });
    } finally {
      await store.close();
    }
  });

  it('adds a new attribute once when two workers meet it at the same time', async () => {
    await withTwoStores(async (a, b, url) => {
      await a.createDatastoreStorage('d', { time: [], device: [] });
      await Promise.all([
        a.insertDatastoreRows('d', [{ record: { x: 1, y: 'a' }, arrival: 1 }]),
        b.insertDatastoreRows('d', [{ record: { y: 'b', x: 2, z: true }, arrival: 2 }]),
      ]);
      const view = await viewRows(url, 'SELECT x, y, z FROM d ORDER BY x');
      expect(view.rows).toEqual([[1, 'a', null], [2, 'b', true]]);
      expect((await viewRows(url, "SELECT count(*)::int FROM datastore_attributes WHERE datastore = 'd'")).rows).toEqual([[3]]);
    });
  });

  it('types a null-first attribute once when two workers meet its first non-null value at the same time', async () => {
    await withTwoStores(async (a, b, url) => {
      await a.createDatastoreStorage('d', { time: ['ts'], device: [] });
      await a.insertDatastoreRows('d', [{ record: { x: null, ts: null }, arrival: 1 }]);
      await b.insertDatastoreRows('d', [{ record: { x: null }, arrival: 1 }]);
      await Promise.all([
        a.insertDatastoreRows('d', [{ record: { x: 1, ts: 10 }, arrival: 2 }]),
        b.insertDatastoreRows('d', [{ record: { x: 'two', ts: 20 }, arrival: 3 }]),
      ]);
      const types = await viewRows(url, "SELECT folded, type FROM datastore_attributes WHERE datastore = 'd' ORDER BY position");
      expect(types.rows).toEqual([['x', expect.stringMatching(/^(number|string)$/)], ['ts', 'number']]);
      expect((await viewRows(url, 'SELECT max(ts), count(ts)::int FROM d')).rows).toEqual([[20, 2]]);
      // ts is indexed: typed, it became a real column of the table, filled for both rows.
      expect((await viewRows(url, 'SELECT count(ts)::int FROM __ds_d')).rows).toEqual([[2]]);
    });
  });

  it('dedups by messageId across two store objects on one database, and commits an ingest whole or not at all', async () => {
    await withTwoStores(async (a, b) => {
      await a.createDatastoreStorage('ds', { time: [], device: [] });
      const [fromA, fromB] = await Promise.all([
        a.appendChannelMessages('ch', [{ messageId: 'm1', payload: '{}' }, { messageId: 'm2', payload: '{}' }], 1),
        b.appendChannelMessages('ch', [{ messageId: 'm2', payload: '{}' }, { messageId: 'm1', payload: '{}' }], 1),
      ]);
      expect([fromA[0]! !== fromB[1]!, fromA[1]! !== fromB[0]!]).toEqual([true, true]);
      expect([...(await b.existingMessageIds('ch', ['m1', 'm2', 'm3']))].sort()).toEqual(['m1', 'm2']);

      expect(await a.commitIngest('ch', [{ messageId: 'm3', payload: '{"v":3}' }], 5, [{ datastore: 'ds', rows: [{ record: { v: 3 }, arrival: 5 }] }])).toBe('committed');
      // m2 is stored already: neither m4 nor any datastore row may land.
      expect(await b.commitIngest('ch', [{ messageId: 'm4', payload: '{}' }, { messageId: 'm2', payload: '{}' }], 6, [{ datastore: 'ds', rows: [{ record: { v: 4 }, arrival: 6 }] }])).toBe('conflict');
      // A failure midway (a datastore that does not exist) rolls back the channel messages too.
      await expect(a.commitIngest('ch', [{ messageId: 'm5', payload: '{}' }], 7, [{ datastore: 'missing', rows: [{ record: { v: 5 }, arrival: 7 }] }])).rejects.toThrow();
      expect([...(await a.existingMessageIds('ch', ['m3', 'm4', 'm5']))]).toEqual(['m3']);
      expect((await a.datastoreStats('ds', true)).count).toBe(1);
    });
  });

  it('commits an ingest as one statement: a fault in its last datastore insert leaves no message and no row, and a retry commits once', async () => {
    const { store, url } = await freshStore();
    try {
      await store.createDatastoreStorage('ok', { time: [], device: [] });
      await store.createDatastoreStorage('bad', { time: [], device: [] });
      // A fault after the channel insert and the first datastore's, from another connection.
      await viewRows(url, "CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'injected fault'; END$$");
      await viewRows(url, 'CREATE TRIGGER fault BEFORE INSERT ON __ds_bad FOR EACH ROW EXECUTE FUNCTION fault()');
      const rows = [{ datastore: 'ok', rows: [{ record: { n: 1 }, arrival: 1 }] }, { datastore: 'bad', rows: [{ record: { n: 1 }, arrival: 1 }] }];
      const messages = [{ messageId: 'a', payload: '{"n":1}' }, { messageId: 'b', payload: '{"n":2}' }];
      await expect(store.commitIngest('ch', messages, 1, rows)).rejects.toThrow(/injected fault/);
      expect(await store.existingMessageIds('ch', ['a', 'b'])).toEqual(new Set());
      expect((await store.datastoreStats('ok', true)).count).toBe(0);
      await viewRows(url, 'DROP TRIGGER fault ON __ds_bad');
      expect(await store.commitIngest('ch', messages, 2, rows)).toBe('committed');
      expect(await store.commitIngest('ch', [{ messageId: 'c', payload: '{}' }, messages[1]!], 3, rows)).toBe('conflict');
      expect([(await store.datastoreStats('ok', true)).count, (await store.datastoreStats('bad', true)).count, (await store.channelStats('ch', true)).count]).toEqual([1, 1, 2]);
    } finally {
      await store.close();
    }
  });

  it('gives a lease to one holder until it expires or is released, and a run-once claim to one caller', async () => {
    await withTwoStores(async (a, b) => {
      expect(await a.claimLease('retention', 'a', 1000, 0)).toBe(true);
      expect(await b.claimLease('retention', 'b', 1000, 500)).toBe(false);
      expect(await a.claimLease('retention', 'a', 1000, 900)).toBe(true); // renewed until 1900
      expect(await b.claimLease('retention', 'b', 1000, 1500)).toBe(false);
      expect(await b.claimLease('retention', 'b', 1000, 1900)).toBe(true); // taken over
      await a.releaseLease('retention', 'a'); // not a's any more: no effect
      expect(await a.claimLease('retention', 'a', 1000, 2000)).toBe(false);
      await b.releaseLease('retention', 'b');
      expect(await a.claimLease('retention', 'a', 1000, 2000)).toBe(true);

      const claims = await Promise.all([a.claimOnce('schedule:x:1', 0), b.claimOnce('schedule:x:1', 0), a.claimOnce('schedule:x:1', 0), b.claimOnce('schedule:x:1', 0)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await a.claimOnce('schedule:x:2', 0)).toBe(true);
    });
  });

  it('applies each migration once when two processes start at once, and refuses a newer database', async () => {
    const url = await (await started!).createDatabase('migrate');
    const script = join(import.meta.dirname, 'postgres-migrate-child.ts');
    const runChild = () => new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ['bin/run-ts.js', script, url], { cwd: join(import.meta.dirname, '../../..'), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
    const results = await Promise.all([runChild(), runChild()]);
    expect(results.map((r) => [r.code, r.out.trim()])).toEqual([[0, 'migrated'], [0, 'migrated']]);
    const recorded = await viewRows(url, 'SELECT version, count(*)::int FROM hedgerow_migrations GROUP BY version ORDER BY version');
    expect(recorded.rows).toEqual(POSTGRES_MIGRATIONS.map((m) => [m.version, 1]));

    const pool = new pg.Pool({ connectionString: url });
    try {
      await pool.query("INSERT INTO hedgerow_migrations (version, name) VALUES (999, 'from the future')");
      await expect(migratePostgres(pool)).rejects.toThrow(/schema version 999, newer than this Hedgerow knows .*upgrade Hedgerow/);
    } finally {
      await pool.end();
    }
  }, 120_000);

  it('names cloud.storage and hides the password when it cannot connect', async () => {
    const server_ = (await started)!;
    const store = new PostgresStore({ url: `postgres://someone:s3cret@127.0.0.1:${server_.port}/no_such_database`, poolSize: 1 });
    const error = await store.open().then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(/^cloud\.storage: cannot open the PostgreSQL database postgres:\/\/someone:\*\*\*@127\.0\.0\.1:\d+\/no_such_database: .*Check the URL/);
    expect(error?.message).not.toContain('s3cret');
  });

  it('reconnects after the server restarts, and marks the failure in between as retryable', async () => {
    const { store } = await freshStore();
    try {
      await store.putSetting('k', 1);
      await server!.pause();
      const failed = await store.getSetting('k').then(() => undefined, (e: unknown) => e);
      expect(isRetryableStorageError(failed)).toBe(true);
      await server!.resume();
      await store.putSetting('k', 2);
      expect(await store.getSetting('k')).toBe(2);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('outlives a server that ends a checked-out connection between two statements, and drops that connection', async () => {
    const { store, url } = await freshStore();
    try {
      // A transaction holds its connection between statements for microseconds, too short to hit from
      // outside; so the test checks one out of the store's pool itself and leaves it idle, as a
      // transaction awaiting its next statement when the server restarts.
      const pool = (store as unknown as { pool: pg.Pool }).pool;
      const held = await pool.connect();
      const pid = (await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const ended = new Promise<void>((resolve) => held.once('end', () => resolve()));
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      } finally {
        await admin.end();
      }
      // Without a listener on the held connection, its 'error' event (57P01) is thrown and ends the process.
      await ended;
      held.release();
      await store.putSetting('k', 'after');
      expect(await store.getSetting('k')).toBe('after');
      expect(pool.totalCount).toBeLessThanOrEqual(1);
    } finally {
      await store.close();
    }
  });
});
