import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
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
