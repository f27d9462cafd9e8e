/**
 * The collection exchange end to end: a real engine (SQLite, or PostgreSQL in the cloud-postgres
 * project), `hedgerow box publish` and `box fetch` as the real CLI in child processes, and the follower
 * and a museum box in-process on fake time, which picks up the second version and plays it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionListing, publishedCollection } from '../../../device/collection-exchange.ts';
import { CollectionFollower } from '../../../device/collection-follower.ts';
import { readSource } from '../../../device/collection-source.ts';
import { MuseumBox } from '../../../device/museum-box.ts';
import { loadCollection } from '../../../device/museum-collection.ts';
import { ensureBoxSounds } from '../../../device/museum-sounds.ts';
import { RecordingAudioPlayer } from '../../../hardware/recording-audio-player.ts';
import { VirtualNfcReader } from '../../../hardware/virtual-nfc-reader.ts';
import { writeWav } from '../../fixtures/audio-files.ts';
import { captureLog } from '../../fixtures/captured-log.ts';
import { sha256, writeSchoolCollection } from '../../fixtures/collection-bundles.ts';
import { TapSink } from '../../fixtures/tap-sink.ts';
import { ManualClock } from '../../hardware/manual-clock.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';
import { TEST_KEY } from './helpers.ts';

const CLI = join(import.meta.dirname, '../../../bin/hedgerow.js');
const AMMONITE = '04000000000a01';
const root = mkdtempSync(join(tmpdir(), 'hedgerow-box-exchange-'));
const school = join(root, 'box-a', 'collections', 'school');
const collectionsB = join(root, 'box-b', 'collections');
let test: TestCloud;

/** The CLI in a child process, without blocking this one (the engine answers it from here). */
function hedgerow(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: root, env: { ...process.env, HEDGEROW_ACCESS_KEY_ID: '', HEDGEROW_SECRET_ACCESS_KEY: '', ...env }, timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A config file for box A naming the engine; keys in the file unless `keys` is false. */
function boxAConfig(keys = true): string {
  const file = join(root, keys ? 'box-a.yaml' : 'box-a-nokeys.yaml');
  const lines = ['museum:', `  collection: ${school}`, '  exchange:', `    endpoint: ${test.cloud.endpoint}`];
  if (keys) lines.push(`    accessKeyId: ${TEST_KEY.accessKeyId}`, `    secretAccessKey: ${TEST_KEY.secretAccessKey}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function setVersion(version: number): void {
  const manifest = join(school, 'manifest.yaml');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/version: \d+/, `version: ${version}`));
}

beforeAll(async () => {
  writeSchoolCollection(school);
  mkdirSync(collectionsB, { recursive: true });
  writeFileSync(join(root, 'box-b.yaml'), `museum:\n  collectionsDir: ${collectionsB}\n`);
  test = await startTestCloud();
}, 60_000);
afterAll(async () => {
  await test?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('publish, list, fetch and follow a museum collection through the engine', () => {
  it('publishes from box A, lists it openly, installs it on box B, and box B follows and plays version 5', { timeout: 400_000 }, async () => {
    const published = await hedgerow(['--config', boxAConfig(), 'box', 'publish']);
    expect(published.stderr).toBe('');
    expect(published.status).toBe(0);
    const collectionUrl = `${test.cloud.endpoint}/public/collections/school`;
    expect(published.stdout).toMatch(/^Published "School museum" \(school, version 4, en\/fr\): 2 objects, \d+ KiB$/m);
    expect(published.stdout).toContain(`Another school installs it with: hedgerow box fetch ${collectionUrl}`);

    const listing = collectionListing.parse(await (await fetch(`${test.cloud.endpoint}/public/collections`, { headers: { accept: 'application/json' } })).json());
    expect(listing.collections).toHaveLength(1);
    expect(listing.collections[0]).toMatchObject({ name: 'school', title: 'School museum', version: 4, objectCount: 2, languages: ['en', 'fr'] });

    // The same bytes again change nothing; the keys from the environment sign as well as the config's.
    const again = await hedgerow(['--config', boxAConfig(false), 'box', 'publish'], { HEDGEROW_ACCESS_KEY_ID: TEST_KEY.accessKeyId, HEDGEROW_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey });
    expect(again.stderr).toBe('');
    expect(again.stdout).toMatch(/^Already published, unchanged: "School museum"/m);

    const fetched = await hedgerow(['--config', join(root, 'box-b.yaml'), 'box', 'fetch', collectionUrl, '--as', 'visiting', '--follow']);
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    expect(fetched.stdout).toContain(`Installed "School museum" (version 4, en/fr): 2 objects`);
    expect(fetched.stdout).toContain('Following school');
    const visiting = join(collectionsB, 'visiting');
    expect(sha256(join(visiting, 'ammonite.wav'))).toBe(sha256(join(school, 'ammonite.wav')));
    expect(await readSource(visiting)).toMatchObject({ url: collectionUrl, version: 4, sha256: listing.collections[0]!.sha256 });

    // Box B plays the visiting collection; its follower runs on fake time.
    const clock = new ManualClock(Date.now());
    const captured = captureLog();
    const reader = new VirtualNfcReader({ log: captured.log, clock });
    const player = new RecordingAudioPlayer({ clock, log: captured.log });
    const sink = new TapSink();
    const box = new MuseumBox({
      boxId: 'box-b',
      collection: await loadCollection(visiting),
      collectionsDir: collectionsB,
      reader,
      player,
      sink,
      sounds: await ensureBoxSounds(join(root, 'box-b', 'sounds')),
      log: captured.log,
      clock,
    });
    const follower = new CollectionFollower({ collectionsDir: collectionsB, intervalMs: 60_000, log: captured.log, clock, random: () => 0, onReplaced: (dir) => box.reloadCollection(dir).then(() => undefined) });
    await box.start();
    await follower.start();
    try {
      // Box A records the ammonite's story again and publishes version 5; version 4 with other bytes is refused first.
      writeWav(join(school, 'ammonite.wav'), 1500);
      const conflict = await hedgerow(['--config', boxAConfig(), 'box', 'publish']);
      expect(conflict.status).toBe(1);
      expect(conflict.stderr).toMatch(/^hedgerow: the engine refused it \(409 .*raise the version \(4 now\): `hedgerow box assign` does, or edit version: in the manifest/);
      setVersion(5);
      const v5 = await hedgerow(['--config', boxAConfig(), 'box', 'publish']);
      expect(v5.stderr).toBe('');
      expect(v5.stdout).toMatch(/^Published "School museum" \(school, version 5/m);
      const latest = publishedCollection.parse(await (await fetch(collectionUrl)).json());
      expect(latest.version).toBe(5);

      clock.advance(60_000);
      await follower.idle();
      expect(captured.text()).toContain(`follow: visiting updated from version 4 to 5 ("School museum", 2 objects) from ${collectionUrl}`);
      expect(captured.text()).toContain('museum: collection "School museum" reloaded: version 4 → 5');
      expect(box.activeCollection.version).toBe(5);
      reader.place({ uid: AMMONITE });
      for (let i = 0; i < 5; i++) await Promise.resolve();
      expect(player.files).toEqual([join(visiting, 'ammonite.wav')]);
      expect(sha256(player.files[0]!)).toBe(sha256(join(school, 'ammonite.wav')));
      expect(sink.records[0]).toMatchObject({ event: 'started', collection: 'visiting', collection_version: 5 });
      expect(await readSource(visiting)).toMatchObject({ version: 5, sha256: latest.sha256 });
      expect(captured.problems()).toEqual([]);
    } finally {
      await follower.stop();
      await box.stop();
    }
  });

  it('says what to do when the keys are wrong or missing, or the engine is not there', { timeout: 300_000 }, async () => {
    const wrong = await hedgerow(['--config', boxAConfig(false), 'box', 'publish'], { HEDGEROW_ACCESS_KEY_ID: TEST_KEY.accessKeyId, HEDGEROW_SECRET_ACCESS_KEY: 'not-the-secret-0123456789' });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^hedgerow: the engine refused it \(403 .*check the keys .*clock/);
    const none = await hedgerow(['--config', boxAConfig(false), 'box', 'publish']);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^hedgerow: no API keys to sign the publish with: set museum.exchange.accessKeyId/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const nowhere = await hedgerow(['--config', boxAConfig(), 'box', 'publish', '--endpoint', `http://127.0.0.1:${port}/`]);
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toMatch(new RegExp(`^hedgerow: cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): check the endpoint`));
  });
});
