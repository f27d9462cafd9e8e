import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudStore, ContentBody } from '../../../cloud/storage/cloud-store.ts';
import { CONTENT_CHUNK_BYTES } from '../../../cloud/storage/content-chunks.ts';
import { translateDatasetSql } from '../../../cloud/query/dataset-sql.ts';
import { publishedCollectionConformance } from './published-collections-conformance.ts';

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

    it('commits channel messages with their datastore rows, or nothing when a messageId is already stored', async () => {
      await store.createChannelStorage('ch');
      await store.createDatastoreStorage('ds', { time: [], device: [] });
      const rows = (n: number) => [{ datastore: 'ds', rows: [{ record: { n }, arrival: 1000 }] }];
      expect(await store.commitIngest('ch', [{ messageId: 'a', payload: '{"n":1}' }], 1000, rows(1))).toBe('committed');
      expect(await store.existingMessageIds('ch', ['a', 'b'])).toEqual(new Set(['a']));
      // 'a' is stored: neither 'b' nor the row its pipeline made may land.
      expect(await store.commitIngest('ch', [{ messageId: 'b', payload: '{"n":2}' }, { messageId: 'a', payload: '{"n":1}' }], 2000, rows(2))).toBe('conflict');
      expect(await store.existingMessageIds('ch', ['a', 'b'])).toEqual(new Set(['a']));
      expect(await store.datastoreStats('ds', true)).toMatchObject({ count: 1 });
      expect(await store.commitIngest('ch', [{ messageId: 'b', payload: '{"n":2}' }], 2000, rows(2))).toBe('committed');
      expect(await store.channelStats('ch', true)).toMatchObject({ count: 2 });
      expect(await store.datastoreStats('ds', true)).toMatchObject({ count: 2, lastArrival: 1000 });
    });

    it('gives a lease to one holder until it expires or is released, and a claimOnce key to one caller', async () => {
      expect(await store.claimLease('sweep', 'w1', 1000, 0)).toBe(true);
      expect(await store.claimLease('sweep', 'w2', 1000, 500)).toBe(false);
      expect(await store.claimLease('sweep', 'w1', 1000, 900)).toBe(true); // renewed until 1900
      expect(await store.claimLease('sweep', 'w2', 1000, 1500)).toBe(false);
      expect(await store.claimLease('sweep', 'w2', 1000, 1900)).toBe(true); // w1's lease expired
      await store.releaseLease('sweep', 'w1'); // not w1's any more: left alone
      expect(await store.claimLease('sweep', 'w1', 1000, 2000)).toBe(false);
      await store.releaseLease('sweep', 'w2');
      expect(await store.claimLease('sweep', 'w1', 1000, 2000)).toBe(true);
      expect(await store.claimOnce('schedule:d:1', 0)).toBe(true);
      expect(await store.claimOnce('schedule:d:1', 1)).toBe(false);
      expect(await store.claimOnce('schedule:d:2', 1)).toBe(true);
    });

    it('keeps the first secret stored under a name, also when callers race with different candidates', async () => {
      const raced = await Promise.all(['a', 'b', 'c', 'd'].map((candidate) => store.secret('token-key', candidate)));
      expect(new Set(raced).size).toBe(1);
      expect(['a', 'b', 'c', 'd']).toContain(raced[0]);
      expect(await store.secret('token-key', 'later')).toBe(raced[0]);
      expect(await store.secret('api-credentials', '{"k":"v"}')).toBe('{"k":"v"}');
    });

    it("keeps each station's alert state, its alerts and the outbox in one commit, queueing an event once per destination", async () => {
      const alert = (id: string, startedAt: number, endedAt: number | null) => ({ id, stationId: 's1', kind: 'frost', startedAt, endedAt, body: { id, worst: startedAt } });
      const event = (eventId: string) => ({ eventId, type: 'start' });
      expect(await store.getAlertStationState('s1')).toBeUndefined();
      await store.commitAlertState('s1', { cursor: 5 }, [alert('s1/frost/1', 1, null), alert('s1/frost/1', 1, null)], [
        { eventId: 'e1', destination: 'ntfy', event: event('e1') },
        { eventId: 'e1', destination: 'webhook', event: event('e1') },
      ], 100);
      // Evaluated again (another engine, a lease that lapsed): the same events are not queued twice.
      await store.commitAlertState('s1', { cursor: 9 }, [alert('s1/frost/1', 1, 8), alert('s1/frost/2', 20, null)], [
        { eventId: 'e1', destination: 'ntfy', event: event('e1') },
        { eventId: 'e2', destination: 'ntfy', event: event('e2') },
      ], 110);
      expect(await store.getAlertStationState('s1')).toEqual({ cursor: 9 });
      expect(await store.listAlerts('s1')).toEqual([{ id: 's1/frost/1', worst: 1 }, { id: 's1/frost/2', worst: 20 }]);
      expect(await store.listAlerts('s1', 10)).toEqual([{ id: 's1/frost/2', worst: 20 }]);
      expect(await store.listAlerts('s2')).toEqual([]);
      expect(await store.alertOutboxCounts()).toEqual({ pending: 3, delivered: 0, failed: 0 });

      // One row at a time per destination, oldest first; a destination not asked for is left alone.
      const due = await store.dueAlertDeliveries(100, ['ntfy', 'webhook']);
      expect(due.map((r) => [r.destination, (r.event as { eventId: string }).eventId, r.attempts])).toEqual([['ntfy', 'e1', 0], ['webhook', 'e1', 0]]);
      expect(await store.dueAlertDeliveries(99, ['ntfy'])).toEqual([]);
      expect(await store.dueAlertDeliveries(100, [])).toEqual([]);
      const [ntfy1, hook1] = due as [(typeof due)[number], (typeof due)[number]];
      await store.alertDelivered(ntfy1.seq, 101);
      await store.alertDeliveryRetry(hook1.seq, 500, 'HTTP 503');
      expect(await store.nextAlertDue(['webhook'])).toBe(500);
      expect(await store.nextAlertDue(['ntfy', 'webhook'])).toBe(110);
      expect(await store.nextAlertDue(['mqtt'])).toBeUndefined();
      expect(await store.dueAlertDeliveries(200, ['webhook'])).toEqual([]);
      await store.alertDeliveriesDueNow('webhook', 200);
      expect((await store.dueAlertDeliveries(200, ['webhook'])).map((r) => [r.seq, r.attempts])).toEqual([[hook1.seq, 1]]);
      const [ntfy2] = await store.dueAlertDeliveries(200, ['ntfy']);
      expect((ntfy2!.event as { eventId: string }).eventId).toBe('e2');
      expect(ntfy2!.seq).toBeGreaterThan(ntfy1.seq);
      await store.alertDeliveryFailed(ntfy2!.seq, 'HTTP 404', 201);
      expect(await store.alertOutboxCounts()).toEqual({ pending: 1, delivered: 1, failed: 1 });
      // Finished rows go once both their creation and their last time are before the cut; pending ones stay.
      await store.pruneAlertOutbox(150);
      expect(await store.alertOutboxCounts()).toEqual({ pending: 1, delivered: 0, failed: 1 });
      await store.pruneAlertOutbox(1000);
      expect(await store.alertOutboxCounts()).toEqual({ pending: 1, delivered: 0, failed: 0 });
    });

    it('adopts an old alert file, keeping what the store already has', async () => {
      await store.commitAlertState('s1', { cursor: 9 }, [{ id: 'a1', stationId: 's1', kind: 'frost', startedAt: 1, endedAt: null, body: { id: 'a1', v: 'store' } }], [
        { eventId: 'e1', destination: 'ntfy', event: { v: 'store' } },
      ], 100);
      const outboxRow = { attempts: 2, nextAt: 300, createdAt: 50, deliveredAt: null, failedReason: null, lastError: 'HTTP 503' };
      await store.importAlertState({
        stations: [{ stationId: 's1', state: { cursor: 1 } }, { stationId: 's2', state: { cursor: 4 } }],
        alerts: [
          { id: 'a1', stationId: 's1', kind: 'frost', startedAt: 1, endedAt: 2, body: { id: 'a1', v: 'file' } },
          { id: 'a2', stationId: 's2', kind: 'high-wind', startedAt: 3, endedAt: null, body: { id: 'a2' } },
        ],
        outbox: [
          { eventId: 'e1', destination: 'ntfy', event: { v: 'file' }, ...outboxRow },
          { eventId: 'e2', destination: 'ntfy', event: { v: 'e2' }, ...outboxRow },
          { eventId: 'e0', destination: 'webhook', event: { v: 'done' }, ...outboxRow, deliveredAt: 60 },
        ],
      });
      expect(await store.getAlertStationState('s1')).toEqual({ cursor: 9 });
      expect(await store.getAlertStationState('s2')).toEqual({ cursor: 4 });
      expect(await store.listAlerts('s1')).toEqual([{ id: 'a1', v: 'store' }]);
      expect(await store.listAlerts('s2')).toEqual([{ id: 'a2' }]);
      expect(await store.alertOutboxCounts()).toEqual({ pending: 2, delivered: 1, failed: 0 });
      expect(await store.nextAlertDue(['ntfy'])).toBe(100);
      const [first] = await store.dueAlertDeliveries(100, ['ntfy']);
      await store.alertDelivered(first!.seq, 100);
      expect(await store.dueAlertDeliveries(299, ['ntfy'])).toEqual([]);
      expect(await store.dueAlertDeliveries(300, ['ntfy'])).toEqual([expect.objectContaining({ event: { v: 'e2' }, attempts: 2 })]);
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

    it('marks what changes a datastore besides arrivals, and lists the keys of rows that arrived since a time', async () => {
      await store.createDatastoreStorage('w', { time: ['ts'], device: ['station'] });
      const empty = await store.datastoreMark('w', 'ts');
      expect(empty).toEqual({ generation: expect.any(String), removals: 0, numericTime: false });
      await store.insertDatastoreRows('w', [
        { record: { station: 'a', ts: 1000 }, arrival: 10 },
        { record: { station: 'a', ts: 1000 }, arrival: 20 },
        { record: { station: 'b', ts: 2500.5 }, arrival: 20 },
        { record: { station: null, ts: null }, arrival: 30 },
      ]);
      const mark = await store.datastoreMark('W', 'TS');
      expect(mark).toEqual({ generation: empty.generation, removals: 0, lastArrival: 30, numericTime: true });
      const keys = await store.arrivedKeys('w', { device: 'STATION', time: 'ts' }, 20, 10);
      expect(keys.toSorted((x, y) => String(x[0]).localeCompare(String(y[0])))).toEqual([['a', 1000], ['b', 2500.5], [null, null]]);
      expect(await store.arrivedKeys('w', { device: 'station', time: 'never_seen' }, 0, 10)).toContainEqual(['a', null]);
      expect(await store.arrivedKeys('w', { device: 'station', time: 'ts' }, 0, 2)).toHaveLength(2);
      // A text time value: a range over numbers would not select it.
      await store.insertDatastoreRows('w', [{ record: { station: 'c', ts: 'soon' }, arrival: 40 }]);
      expect((await store.datastoreMark('w', 'ts')).numericTime).toBe(false);
      expect(await store.expireDatastoreRows('w', 5)).toBe(0);
      expect((await store.datastoreMark('w', 'ts')).removals).toBe(0);
      expect(await store.expireDatastoreRows('w', 15)).toBe(1);
      expect((await store.datastoreMark('w', 'ts')).removals).toBe(1);
      await store.dropDatastoreStorage('w');
      await store.createDatastoreStorage('w', { time: ['ts'], device: ['station'] });
      const again = await store.datastoreMark('w', 'ts');
      expect(again.generation).not.toBe(empty.generation);
      expect(again.removals).toBe(0);
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

    it('returns the rows of a read-only query on the datastore views (queryRows), typed and in column order', async () => {
      await store.createDatastoreStorage('weather', { time: ['ts'], device: ['device_id'] });
      await store.insertDatastoreRows('weather', [
        { record: { device_id: 'n', ts: 2, temp: 12.5, sensors: { bme280: 'ok' } }, arrival: 5 },
        { record: { device_id: 's', ts: 1, temp: null }, arrival: 5 },
      ]);
      const sql = 'SELECT "device_id", "ts", "temp", count(*) OVER () AS "n" FROM "weather" ORDER BY "ts" DESC';
      const result = await store.queryRows({ sql, params: [], datastores: ['weather'] }, { timeoutMs: 10_000, maxRows: 10 });
      expect(result.columns).toEqual(['device_id', 'ts', 'temp', 'n']);
      expect(result.rows.map((r) => r.slice(0, 3))).toEqual([['n', 2, 12.5], ['s', 1, null]]);
      expect(result.rows.map((r) => Number(r[3]))).toEqual([2, 2]);
      const empty = await store.queryRows({ sql: 'SELECT * FROM "weather" WHERE "ts" > 9', params: [], datastores: ['weather'] }, { timeoutMs: 10_000, maxRows: 10 });
      expect(empty).toMatchObject({ rows: [] });
      expect(empty.columns.slice(0, 4)).toEqual(['device_id', 'ts', 'temp', 'sensors']);
    });

    it('types an attribute by its first value that is not null: a station with a missing sensor, an alert not ended yet', async () => {
      await store.createDatastoreStorage('station_alerts', { time: ['ts'], device: ['device_id'] });
      // Null first in one batch (ended_at, ground), across batches (late), and in indexed columns (ts, device_id).
      await store.insertDatastoreRows('station_alerts', [
        { record: { device_id: null, ts: null, ended_at: null, ground: null }, arrival: 1 },
        { record: { device_id: null, ts: null, ended_at: 6000, ground: 3.5 }, arrival: 1 },
      ]);
      await store.insertDatastoreRows('station_alerts', [{ record: { device_id: 's', ts: 4000, ended_at: null, ground: -1.5, late: null }, arrival: 2 }]);
      await store.insertDatastoreRows('station_alerts', [{ record: { device_id: 'n', ts: 2000, late: 8 }, arrival: 3 }]);
      const sql = 'SELECT max("ended_at") / 1000 AS "ended", min("ground") AS "ground", max("late") + 1 AS "late", max("ts") / 1000 AS "ts", '
        + 'count(*) FILTER (WHERE "device_id" = \'s\') AS "s" FROM "station_alerts"';
      const result = await store.queryRows({ sql, params: [], datastores: ['station_alerts'] }, { timeoutMs: 10_000, maxRows: 10 });
      expect(result.rows.map((r) => r.map(Number))).toEqual([[6, -1.5, 9, 4, 1]]);
    });

    it('stops queryRows past its row cap or its time limit with a reason, refuses a bad or writing query, and runs the next one', async () => {
      await store.createDatastoreStorage('d', { time: [], device: [] });
      await store.insertDatastoreRows('d', Array.from({ length: 400 }, (_, i) => ({ record: { n: i }, arrival: 1 })));
      const all = { sql: 'SELECT "n" FROM "d"', params: [], datastores: ['d'] };
      await expect(store.queryRows(all, { timeoutMs: 10_000, maxRows: 399 })).rejects.toThrow(/more than 399 rows, the cap, and was stopped; narrow the query/);
      expect((await store.queryRows(all, { timeoutMs: 10_000, maxRows: 400 })).rows).toHaveLength(400);
      const slow = { sql: 'SELECT count(*) FROM "d" a, "d" b, "d" c, "d" e', params: [], datastores: ['d'] };
      await expect(store.queryRows(slow, { timeoutMs: 300, maxRows: 10 })).rejects.toThrow(/longer than 300 ms and was stopped/);
      await expect(store.queryRows({ sql: 'SELECT "nope" FROM "d"', params: [], datastores: ['d'] }, { timeoutMs: 10_000, maxRows: 10 })).rejects.toThrow(/nope/);
      await expect(store.queryRows({ sql: 'DELETE FROM "__ds_d"', params: [], datastores: [] }, { timeoutMs: 10_000, maxRows: 10 })).rejects.toThrow();
      const count = await store.queryRows({ sql: 'SELECT count(*) AS "c" FROM "d"', params: [], datastores: ['d'] }, { timeoutMs: 10_000, maxRows: 10 });
      expect(count.rows.map((r) => Number(r[0]))).toEqual([400]);
    });

    /** Dataset SQL in the store's dialect, run to a CSV file: the text. */
    async function csvOf(sql: string, datastores: string[]): Promise<string> {
      const out = join(dir, `csv-${datastores.join('-')}-${Math.random().toString(36).slice(2)}.csv`);
      await store.runQuery(translateDatasetSql(sql, { datastores, dialect: store.sqlDialect }), out, 10_000);
      return readFileSync(out, 'utf8');
    }

    it('types an attribute by its first non-null value: aggregates over an attribute that was null first work', async () => {
      await store.createDatastoreStorage('ds', { time: ['ts'], device: ['station'] });
      await store.insertDatastoreRows('ds', [{ record: { station: null, ts: null, a: null }, arrival: 1 }]);
      // Only nulls so far: the columns exist and read as NULL.
      expect(await csvOf('SELECT max(a) AS hi, max(ts) / 1000 AS t, count(station) AS n FROM ds', ['ds'])).toBe('hi,t,n\r\n,,0\r\n');
      await store.insertDatastoreRows('ds', [
        { record: { station: 'n', ts: 5, a: 2.5, b: null }, arrival: 2 },
        { record: { a: 4, station: 'n', ts: 7, b: 1 }, arrival: 3 },
      ]);
      expect(await csvOf('SELECT max(a), avg(a) FROM ds', ['ds'])).toBe('"max(""a"")","avg(""a"")"\r\n4,3.25\r\n');
      expect(await csvOf('SELECT max(ts) AS last, count(station) AS n, sum(b) AS b FROM ds', ['ds'])).toBe('last,n,b\r\n7,2,1\r\n');
      expect(await store.arrivedKeys('ds', { device: 'station', time: 'ts' }, 2, 10)).toEqual([['n', 5], ['n', 7]].toSorted());
    });

    it('runs the default weather_alerts dataset over an alert that has not ended (ended_at null)', async () => {
      const resources = JSON.parse(readFileSync('cloud/resources/default.json', 'utf8')) as {
        datasets: { datasetName: string; actions: { queryAction?: { sqlQuery: string } }[] }[];
      };
      const sql = resources.datasets.find((d) => d.datasetName === 'weather_alerts')!.actions[0]!.queryAction!.sqlQuery;
      await store.createDatastoreStorage('alerts_datastore', { time: ['ts'], device: ['device_id'] });
      const startedAt = Date.UTC(2024, 0, 2, 5);
      // As cloud/alerts/dataset-output.ts's alertRecord writes a start event.
      await store.insertDatastoreRows('alerts_datastore', [{
        record: {
          event_id: `north/frost/${startedAt}/start`, event: 'start', ts: startedAt, alert_id: `north/frost/${startedAt}`, device_id: 'north', kind: 'frost',
          started_at: startedAt, ended_at: null, value: -1, threshold: 0, worst: -1, measure: 'ambient_temperature', headline: 'Frost now', detail: null,
        },
        arrival: startedAt,
      }]);
      expect(await csvOf(sql, ['alerts_datastore'])).toBe(
        'station,kind,started_utc,ended_utc,raised_by,threshold,worst,detail\r\nnorth,frost,2024-01-02 05:00:00.000,,-1,0,-1,\r\n',
      );
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

    it('keeps a content body in chunks with its version, replaces it, and deletes it with the version', async () => {
      const read = async (body: ContentBody) => {
        const parts: Buffer[] = [];
        for await (const chunk of body.chunks()) parts.push(chunk);
        return parts;
      };
      // 2.5 chunks of bytes that are not text, so nothing on the way may decode or re-encode them.
      const big = randomBytes(CONTENT_CHUNK_BYTES * 2 + CONTENT_CHUNK_BYTES / 2);
      writeFileSync(join(dir, 'big.csv'), big);
      writeFileSync(join(dir, 'small.csv'), 'a,b\r\n1,2\r\n');
      writeFileSync(join(dir, 'empty.csv'), '');
      const v1 = { datasetName: 'd', versionId: 'v1', state: 'CREATING', creationTime: 1, scheduleTime: 1 } as const;
      await store.putContent(v1);
      expect(await store.openContentBody('d', 'v1')).toBeUndefined();
      await store.putContent({ ...v1, state: 'SUCCEEDED', file: 'v1.csv' }, join(dir, 'big.csv'));
      const body = (await store.openContentBody('d', 'v1'))!;
      expect(body.sizeBytes).toBe(big.length);
      const parts = await read(body);
      expect(parts.map((p) => p.length)).toEqual([CONTENT_CHUNK_BYTES, CONTENT_CHUNK_BYTES, CONTENT_CHUNK_BYTES / 2]);
      expect(Buffer.concat(parts).equals(big)).toBe(true);
      expect(Buffer.concat(await read(body)).equals(big)).toBe(true);
      expect((await store.getContent('d', 'v1'))?.state).toBe('SUCCEEDED');

      // A redo replaces the body; a record put without one leaves it.
      await store.putContent({ ...v1, state: 'SUCCEEDED', file: 'v1.csv' }, join(dir, 'small.csv'));
      await store.putContent({ ...v1, state: 'SUCCEEDED', file: 'v1.csv', rowCount: 1 });
      const small = (await store.openContentBody('d', 'v1'))!;
      expect([small.sizeBytes, Buffer.concat(await read(small)).toString()]).toEqual([10, 'a,b\r\n1,2\r\n']);
      await store.putContent({ ...v1, versionId: 'v0' }, join(dir, 'empty.csv'));
      expect((await store.openContentBody('d', 'v0'))?.sizeBytes).toBe(0);
      expect(await store.openContentBody('d', 'v9')).toBeUndefined();
      expect(await store.openContentBody('other', 'v1')).toBeUndefined();

      // Deleted between opening and reading (retention): the read fails, it never ends short.
      await store.putContent({ ...v1, state: 'SUCCEEDED', file: 'v1.csv' }, join(dir, 'big.csv'));
      const opened = (await store.openContentBody('d', 'v1'))!;
      await store.deleteContent('d', 'v1');
      expect(await store.getContent('d', 'v1')).toBeUndefined();
      expect(await store.openContentBody('d', 'v1')).toBeUndefined();
      await expect(read(opened)).rejects.toThrow(/deleted while it was being read; call GetDatasetContent again/);
    });

    publishedCollectionConformance(() => ({ store, dir }));
  });
}
