import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudStore } from '../../../cloud/storage/cloud-store.ts';
import { translateDatasetSql } from '../../../cloud/query/dataset-sql.ts';

/**
 * The behaviour every CloudStore backend must show (SQLite now, PostgreSQL later). Each backend's
 * test file calls this with a factory for a fresh, empty store.
 */
export function cloudStoreConformance(
  backend: string,
  create: (dir: string) => CloudStore | Promise<CloudStore>,
  // PostgreSQL's dataset SQL is the pg-query task's: until it is merged, its cases run on SQLite only.
  options: { datasetSql: boolean } = { datasetSql: true },
): void {
  const withSql = options.datasetSql ? it : undefined;
  describe(`CloudStore conformance: ${backend}`, () => {
    let dir: string;
    let store: CloudStore;

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'hedgerow-store-'));
      store = await create(dir);
      await store.open();
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps resources unique per type ignoring case, ordered and paged by name', async () => {
      expect(await store.insertResource({ type: 'channel', name: 'b', definition: { x: 1 }, createdAt: 1, updatedAt: 1 })).toBe(true);
      expect(await store.insertResource({ type: 'channel', name: 'B', definition: {}, createdAt: 2, updatedAt: 2 })).toBe(false);
      expect(await store.insertResource({ type: 'pipeline', name: 'b', definition: {}, createdAt: 2, updatedAt: 2 })).toBe(true);
      await store.insertResource({ type: 'channel', name: 'a', definition: {}, createdAt: 3, updatedAt: 3 });
      await store.insertResource({ type: 'channel', name: 'c', definition: {}, createdAt: 3, updatedAt: 3 });
      expect((await store.listResources('channel')).map((r) => r.name)).toEqual(['a', 'b', 'c']);
      expect((await store.listResources('channel', { after: 'a', limit: 1 })).map((r) => r.name)).toEqual(['b']);
      expect((await store.getResource('channel', 'B'))?.definition).toEqual({ x: 1 });
      expect(await store.updateResource('channel', 'b', { x: 2 }, 9)).toBe(true);
      expect(await store.getResource('channel', 'b')).toMatchObject({ definition: { x: 2 }, createdAt: 1, updatedAt: 9 });
      expect(await store.deleteResource('channel', 'b')).toBe(true);
      expect(await store.deleteResource('channel', 'b')).toBe(false);
      expect(await store.getResource('channel', 'b')).toBeUndefined();
    });

    it('keeps tags and settings', async () => {
      await store.setTags('arn:x', [{ key: 'k', value: '1' }, { key: 'j', value: '2' }]);
      await store.setTags('arn:x', [{ key: 'k', value: '3' }]);
      expect(await store.getTags('arn:x')).toEqual([{ key: 'j', value: '2' }, { key: 'k', value: '3' }]);
      await store.removeTags('arn:x', ['j']);
      expect(await store.getTags('arn:x')).toEqual([{ key: 'k', value: '3' }]);
      await store.deleteAllTags('arn:x');
      expect(await store.getTags('arn:x')).toEqual([]);
      await store.putSetting('s', { a: 1 });
      expect(await store.getSetting('s')).toEqual({ a: 1 });
      expect(await store.getSetting('missing')).toBeUndefined();
    });

    it('stores channel messages once per messageId and reads them by arrival', async () => {
      await store.createChannelStorage('ch');
      expect(await store.appendChannelMessages('ch', [{ messageId: 'a', payload: '{"n":1}' }, { messageId: 'b', payload: Buffer.from('{"n":2}') }], 1000)).toEqual([true, true]);
      expect(await store.appendChannelMessages('ch', [{ messageId: 'a', payload: '{"n":9}' }, { messageId: 'c', payload: '{"n":3}' }], 2000)).toEqual([false, true]);
      expect((await store.sampleChannelMessages('ch', { limit: 10 })).map((p) => p.toString())).toEqual(['{"n":3}', '{"n":2}', '{"n":1}']);
      expect((await store.sampleChannelMessages('ch', { start: 1000, end: 2000, limit: 1 })).map((p) => p.toString())).toEqual(['{"n":2}']);
      const page = await store.readChannelMessages('ch', { start: 1000, end: 2001, limit: 2 });
      expect(page.map((m) => m.messageId)).toEqual(['a', 'b']);
      const rest = await store.readChannelMessages('ch', { afterSeq: page.at(-1)!.seq, limit: 10 });
      expect(rest.map((m) => [m.messageId, m.arrival])).toEqual([['c', 2000]]);
      const stats = await store.channelStats('ch', true);
      expect(stats).toMatchObject({ count: 3, lastArrival: 2000 });
      expect(stats.sizeBytes).toBeGreaterThan(0);
      expect(await store.expireChannelMessages('ch', 2000)).toBe(2);
      expect(await store.channelStats('ch', true)).toMatchObject({ count: 1 });
      await store.dropChannelStorage('ch');
    });

    it('counts datastore rows, and expires them by arrival', async () => {
      await store.createDatastoreStorage('w', { time: ['ts'], device: ['station'] });
      await store.insertDatastoreRows('w', [
        { record: { station: 'n', ts: 1, temp: 1 }, arrival: 1000 },
        { record: { station: 's', ts: 2, temp: 'warm', gust: 4 }, arrival: 2000 },
      ]);
      expect(await store.datastoreStats('w', true)).toMatchObject({ count: 2, lastArrival: 2000 });
      expect(await store.expireDatastoreRows('w', 2000)).toBe(1);
      expect(await store.datastoreStats('w', true)).toMatchObject({ count: 1, lastArrival: 2000 });
      await store.dropDatastoreStorage('w');
      await store.createDatastoreStorage('w', { time: [], device: [] });
      expect(await store.datastoreStats('w', true)).toMatchObject({ count: 0 });
    });

    withSql?.('adds typed datastore columns as attributes appear and queries them read-only', async () => {
      await store.createDatastoreStorage('weather', { time: ['ts'], device: ['station'] });
      await store.insertDatastoreRows('weather', [{ record: { station: 'n', temp: 12.5, ok: true, extra: { a: [1] } }, arrival: Date.UTC(2024, 0, 2, 5) }]);
      await store.insertDatastoreRows('weather', [{ record: { station: 's', TEMP: 14, wind: 3 }, arrival: Date.UTC(2024, 0, 3, 5) }]);
      expect(await store.datastoreStats('weather', true)).toMatchObject({ count: 2, lastArrival: Date.UTC(2024, 0, 3, 5) });
      const query = translateDatasetSql('SELECT station, temp, ok, extra, wind, __dt FROM weather ORDER BY station', { datastores: ['weather'] });
      expect(await store.checkQuery(query)).toBeUndefined();
      const out = join(dir, 'out.csv');
      const result = await store.runQuery(query, out, 10_000);
      expect(result).toEqual({ columns: ['station', 'temp', 'ok', 'extra', 'wind', '__dt'], rowCount: 2 });
      expect(readFileSync(out, 'utf8')).toBe(
        'station,temp,ok,extra,wind,__dt\r\nn,12.5,1,"{""a"":[1]}",,2024-01-02 00:00:00.000\r\ns,14,,,3,2024-01-03 00:00:00.000\r\n',
      );
      expect(await store.expireDatastoreRows('weather', Date.UTC(2024, 0, 3))).toBe(1);
      expect(await store.datastoreStats('weather', true)).toMatchObject({ count: 1 });
    });

    withSql?.('reports SQL the backend cannot run, and never writes through a query', async () => {
      await store.createDatastoreStorage('d', { time: [], device: [] });
      expect(await store.checkQuery({ sql: 'SELECT nope(1) FROM "d"', params: [], datastores: ['d'] })).toMatch(/no such function/);
      await expect(store.runQuery({ sql: 'DELETE FROM "__ds_d"', params: [], datastores: [] }, join(dir, 'x.csv'), 5000)).rejects.toThrow();
    });

    withSql?.('stops a query that runs past its time limit, and runs the next one', async () => {
      await store.createDatastoreStorage('d', { time: [], device: [] });
      await store.insertDatastoreRows('d', Array.from({ length: 400 }, (_, i) => ({ record: { n: i }, arrival: 1 })));
      const slow = { sql: 'SELECT count(*) FROM "d" a, "d" b, "d" c, "d" e', params: [], datastores: ['d'] };
      await expect(store.runQuery(slow, join(dir, 'slow.csv'), 300)).rejects.toThrow(/longer than 300 ms/);
      const quick = await store.runQuery({ sql: 'SELECT count(*) AS n FROM "d"', params: [], datastores: ['d'] }, join(dir, 'q.csv'), 10_000);
      expect(quick.rowCount).toBe(1);
      expect(readFileSync(join(dir, 'q.csv'), 'utf8')).toBe('n\r\n400\r\n');
    });

    it('keeps dataset contents newest first, reprocessing runs, things and shadows', async () => {
      await store.putContent({ datasetName: 'd', versionId: 'v1', state: 'SUCCEEDED', creationTime: 1, scheduleTime: 1 });
      await store.putContent({ datasetName: 'd', versionId: 'v2', state: 'CREATING', creationTime: 2, scheduleTime: 2 });
      await store.putContent({ datasetName: 'd', versionId: 'v2', state: 'FAILED', reason: 'x', creationTime: 2, scheduleTime: 2 });
      expect((await store.listContents('d')).map((c) => [c.versionId, c.state])).toEqual([['v2', 'FAILED'], ['v1', 'SUCCEEDED']]);
      await store.deleteContent('d', 'v1');
      expect(await store.getContent('d', 'v1')).toBeUndefined();
      await store.putReprocessing({ id: 'r1', pipelineName: 'p', status: 'RUNNING', creationTime: 1 });
      await store.putReprocessing({ id: 'r1', pipelineName: 'p', status: 'SUCCEEDED', creationTime: 1 });
      expect(await store.listReprocessings('p')).toEqual([{ id: 'r1', pipelineName: 'p', status: 'SUCCEEDED', creationTime: 1 }]);
      await store.putThing({ thingName: 't', attributes: { app: 'weather' }, version: 1, createdAt: 1 });
      await store.putShadow({ thingName: 't', reported: { battery: 90 }, version: 1, updatedAt: 5 });
      expect(await store.listThings()).toHaveLength(1);
      expect((await store.listShadows())[0]!.reported).toEqual({ battery: 90 });
    });
  });
}
