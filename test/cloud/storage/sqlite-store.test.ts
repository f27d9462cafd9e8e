import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../cloud/storage/sqlite-store.ts';
import { cloudStoreConformance } from './cloud-store-conformance.ts';

cloudStoreConformance('SQLite', (dir) => new SqliteStore(dir));

describe('SQLite datastore indexes', () => {
  it('serve queries naming a device or a time range, while whole-table aggregations scan in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-store-'));
    const store = new SqliteStore(dir);
    await store.open();
    try {
      await store.createDatastoreStorage('weather', { time: ['ts'], device: ['device_id', 'field'] });
      await store.insertDatastoreRows('weather', [{ record: { device_id: 's1', field: 'north', ts: 1, temp: 3 }, arrival: 1 }]);
      const db = new Database(store.datastoreFile, { readonly: true });
      const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
      expect(plan("SELECT * FROM weather WHERE device_id = 's1' AND ts > 5")).toMatch(/USING INDEX __ds_weather_device_id_by_time \(device_id=\? AND ts>\?\)/);
      // The numeric attributes ride in the (device, time) index, so a per-device aggregation never reads the table.
      expect(plan("SELECT ts, avg(temp) FROM weather WHERE device_id = 's1' AND ts > 5 GROUP BY ts")).toMatch(/USING COVERING INDEX __ds_weather_device_id_by_time \(device_id=\? AND ts>\?\)/);
      expect(plan("SELECT * FROM weather WHERE field = 'north'")).toMatch(/USING INDEX __ds_weather_field_by_time/);
      expect(plan('SELECT * FROM weather WHERE ts BETWEEN 1 AND 2')).toMatch(/USING INDEX __ds_weather_ts/);
      expect(plan('SELECT device_id, max(temp) FROM weather GROUP BY device_id')).toMatch(/^SCAN __ds_weather( |$)/);
      db.close();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite ingest commit', () => {
  it('leaves neither the channel message nor any datastore row when a datastore insert fails mid-commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-store-'));
    const store = new SqliteStore(dir);
    await store.open();
    try {
      await store.createChannelStorage('ch');
      await store.createDatastoreStorage('ok', { time: [], device: [] });
      await store.createDatastoreStorage('bad', { time: [], device: [] });
      // A fault between the channel insert and the second datastore's insert, from another connection.
      const db = new Database(store.datastoreFile);
      db.exec("CREATE TRIGGER fault BEFORE INSERT ON __ds_bad BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
      db.close();
      const rows = [{ datastore: 'ok', rows: [{ record: { n: 1 }, arrival: 1 }] }, { datastore: 'bad', rows: [{ record: { n: 1, fresh: 'x' }, arrival: 1 }] }];
      await expect(store.commitIngest('ch', [{ messageId: 'a', payload: '{"n":1}' }], 1, rows)).rejects.toThrow(/injected fault/);
      expect(await store.existingMessageIds('ch', ['a'])).toEqual(new Set());
      expect(await store.datastoreStats('ok', true)).toMatchObject({ count: 0 });
      // The rolled-back column 'fresh' is not remembered: the next commit adds it again.
      await store.insertDatastoreRows('ok', [{ record: { n: 2, fresh: 'y' }, arrival: 2 }]);
      expect(await store.datastoreStats('ok', true)).toMatchObject({ count: 1 });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adopts an old channels.sqlite once: its messages are kept and the file is renamed aside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-store-'));
    try {
      const old = new Database(join(dir, 'channels.sqlite'));
      old.pragma('journal_mode = WAL');
      old.exec(`CREATE TABLE "__ch_weather" (seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL, arrival INTEGER NOT NULL, payload BLOB NOT NULL);
        CREATE UNIQUE INDEX "__ch_weather_id" ON "__ch_weather" (message_id);
        INSERT INTO "__ch_weather" (message_id, arrival, payload) VALUES ('m1', 5, X'7B7D');`);
      old.close();
      const store = new SqliteStore(dir);
      await store.open();
      expect(await store.existingMessageIds('weather', ['m1', 'm2'])).toEqual(new Set(['m1']));
      expect(await store.appendChannelMessages('weather', [{ messageId: 'm1', payload: '{}' }], 6)).toEqual([false]);
      await store.close();
      expect(existsSync(join(dir, 'channels.sqlite'))).toBe(false);
      expect(existsSync(join(dir, 'channels.sqlite.adopted'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
