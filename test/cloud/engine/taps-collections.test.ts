import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../cloud/query/csv.ts';
import { startEngine } from './engine-fixture.ts';

/** The README's "how a collection does in each school" query (checked below to be the README's text). */
const BY_COLLECTION =
  "SELECT collection, collection_version, device_id AS box, count(*) AS taps FROM taps_datastore WHERE event = 'started' AND collection IS NOT NULL GROUP BY 1, 2, 3";

describe('taps that name their collection, through the default taps rule, channel, pipeline and datastore', () => {
  it('keep collection and collection_version, so a dataset counts a travelling collection per school and version; older boxes\' taps still go in', async () => {
    const f = await startEngine({ resourceFiles: ['cloud/resources/default.json'] });
    try {
      const tap = (object_id: string, minute: number, collection?: string, collection_version?: number) => ({
        ts: Date.UTC(2026, 11, 7, 9, minute), uid: '04aabbccddeeff', object_id, event: 'started', play_duration_ms: null,
        ...(collection ? { collection, collection_version } : {}),
      });
      const send = (box: string, messageId: string, records: unknown[]) =>
        f.engine.handleMqttMessage(`dt/museum/${box}/tap`, Buffer.from(JSON.stringify({ messageId, deviceId: box, seq: 1, sentAt: 1, records })));
      await send('leeds_box', 'l1', [tap('owl', 0, 'village', 3), tap('coin', 1, 'village', 3), tap('owl', 2, 'village', 4)]);
      await send('york_box', 'y1', [tap('owl', 0, 'village', 4), tap('fox', 1)]);
      expect(f.engine.ingestStats()).toMatchObject({ received: 2, accepted: 5, rejected: 0 });
      await f.engine.idle();
      await f.engine.createDataset({ datasetName: 'taps_by_collection', actions: [{ actionName: 'q', queryAction: { sqlQuery: BY_COLLECTION } }] });
      await f.engine.createDatasetContent({ datasetName: 'taps_by_collection' });
      await f.engine.idle();
      const content = await f.engine.getDatasetContent({ datasetName: 'taps_by_collection' });
      expect(content.status!.state, content.status!.reason).toBe('SUCCEEDED');
      const entry = content.entries![0]!;
      const file = await f.engine.openDatasetContent({ datasetName: 'taps_by_collection', versionId: decodeURIComponent(entry.dataURI!.split('/')[3]!), entryName: entry.entryName! });
      const [header, ...rows] = parseCsv(readFileSync(file.path, 'utf8'));
      expect([header, ...rows.sort()]).toEqual([
        ['collection', 'collection_version', 'box', 'taps'],
        ['village', '3', 'leeds_box', '2'],
        ['village', '4', 'leeds_box', '1'],
        ['village', '4', 'york_box', '1'],
      ]);
    } finally {
      await f.close();
    }
  });

  it("is the README's query", () => {
    expect(readFileSync('README.md', 'utf8')).toContain(`\`${BY_COLLECTION}\``);
  });
});
