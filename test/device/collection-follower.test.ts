import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchCollection } from '../../device/collection-fetch.ts';
import { CollectionFollower } from '../../device/collection-follower.ts';
import { readSource } from '../../device/collection-source.ts';
import { exportCollection } from '../../device/museum-bundle-export.ts';
import { loadCollection } from '../../device/museum-collection.ts';
import { writeWav } from '../fixtures/audio-files.ts';
import { captureLog } from '../fixtures/captured-log.ts';
import { sha256, treeHash, writeSchoolCollection } from '../fixtures/collection-bundles.ts';
import { startBundleServer, type BundleServer } from '../fixtures/bundle-server.ts';
import { ManualClock } from '../hardware/manual-clock.ts';

const root = mkdtempSync(join(tmpdir(), 'hedgerow-follow-'));
const source = join(root, 'source', 'school');
const INTERVAL_MS = 60_000;
let server: BundleServer;

/** Exports the source collection at `version` and serves it as the latest at /public/collections/school. */
async function publishVersion(version: number, overrides: { sha256?: string } = {}): Promise<string> {
  writeFileSync(join(source, 'manifest.yaml'), readFileSync(join(source, 'manifest.yaml'), 'utf8').replace(/version: \d+/, `version: ${version}`));
  writeWav(join(source, 'ammonite.wav'), 200 + version * 100);
  const file = join(root, `school-v${version}.tar.gz`);
  await exportCollection({ collection: source, file });
  server.publish('/public/collections/school', `/public/collections/school/versions/${version}/bundle.tar.gz`, file, overrides);
  return file;
}

beforeAll(async () => {
  writeSchoolCollection(source);
  server = await startBundleServer();
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the collection follower', () => {
  it('swaps in a higher version at the next interval and tells the box; a bad bundle or a silent engine leaves it as it was', async () => {
    await publishVersion(4);
    const collections = join(root, 'box', 'collections');
    const url = `${server.url}/public/collections/school`;
    const { dir } = await fetchCollection({ url, collectionsDir: collections, as: 'visiting', follow: true });
    const clock = new ManualClock(Date.UTC(2026, 11, 7));
    const captured = captureLog();
    const replaced: string[] = [];
    const follower = new CollectionFollower({ collectionsDir: collections, intervalMs: INTERVAL_MS, log: captured.log, clock, random: () => 0, onReplaced: (d) => void replaced.push(d) });
    await follower.start();
    try {
      // Nothing new: one round asks and changes nothing.
      clock.advance(INTERVAL_MS);
      await follower.idle();
      expect(server.requests.filter((r) => r === 'GET /public/collections/school')).toHaveLength(2);
      expect(replaced).toEqual([]);

      const v5 = await publishVersion(5);
      clock.advance(INTERVAL_MS - 1);
      await follower.idle();
      expect((await loadCollection(dir)).version).toBe(4);
      clock.advance(1);
      await follower.idle();
      expect((await loadCollection(dir)).version).toBe(5);
      expect(replaced).toEqual([dir]);
      expect(await readSource(dir)).toMatchObject({ url, version: 5, sha256: sha256(v5) });
      expect(captured.text()).toContain(`follow: visiting updated from version 4 to 5 ("School museum", 2 objects) from ${url}`);

      await publishVersion(6, { sha256: '00'.repeat(32) });
      const before = treeHash(collections);
      clock.advance(INTERVAL_MS);
      await follower.idle();
      expect(treeHash(collections)).toBe(before);
      expect(captured.problems()).toEqual([expect.stringMatching(/^follow: visiting stays at version 5: .*does not match the published SHA-256.*; trying again in 60 s$/)]);

      await server.close();
      clock.advance(INTERVAL_MS);
      await follower.idle();
      expect(treeHash(collections)).toBe(before);
      expect(captured.problems()[1]).toMatch(/^follow: visiting stays at version 5: cannot reach .*ECONNREFUSED/);
      expect(replaced).toEqual([dir]);
    } finally {
      await follower.stop();
    }
    expect(clock.pending).toBe(0);
  });
});
