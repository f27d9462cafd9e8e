import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_FILE } from '../../device/collection-source.ts';
import { exportCollection } from '../../device/museum-bundle-export.ts';
import { importBundle, repairInterruptedImports } from '../../device/museum-bundle-import.ts';
import { loadCollection } from '../../device/museum-collection.ts';
import { writeWav } from '../fixtures/audio-files.ts';
import { craftTarGz, fileEntry, gnuTar, treeHash, writeSchoolCollection } from '../fixtures/collection-bundles.ts';

const ROOT_DIR = join(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'hedgerow-replace-'));
const source = join(root, 'source', 'school');
const v4 = join(root, 'school-v4.tar.gz');
const v5 = join(root, 'school-v5.tar.gz');
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  writeSchoolCollection(source);
  await exportCollection({ collection: source, file: v4 });
  // Version 5: one story re-recorded, the manifest's version raised.
  writeWav(join(source, 'ammonite.wav'), 900);
  writeFileSync(join(source, 'manifest.yaml'), readFileSync(join(source, 'manifest.yaml'), 'utf8').replace('version: 4', 'version: 5'));
  await exportCollection({ collection: source, file: v5 });
});

let n = 0;
/** A box's collections folder holding version 4 of "school". */
async function boxWithV4(): Promise<{ collections: string; school: string }> {
  const collections = join(root, `box-${n++}`);
  const { dir } = await importBundle({ file: v4, collectionsDir: collections });
  return { collections, school: dir };
}

describe('importBundle with replace: a followed collection swapped in', () => {
  it('puts the new version in place, with the hidden files it is given, and leaves nothing behind', async () => {
    const { collections, school } = await boxWithV4();
    const result = await importBundle({ file: v5, collectionsDir: collections, replace: true, hiddenFiles: new Map([[SOURCE_FILE, '{"note":"carried"}\n']]) });
    expect(result.dir).toBe(school);
    expect((await loadCollection(school)).version).toBe(5);
    expect(readFileSync(join(school, SOURCE_FILE), 'utf8')).toBe('{"note":"carried"}\n');
    expect(readFileSync(join(school, 'ammonite.wav'))).toEqual(readFileSync(join(source, 'ammonite.wav')));
    expect(readdirSync(collections)).toEqual(['school']);
  });

  it('keeps the installed collection whole when the new bundle is bad', async () => {
    const { collections } = await boxWithV4();
    const before = treeHash(collections);
    const unpacked = join(root, `bad-${n++}`);
    mkdirSync(unpacked);
    gnuTar(['-xzf', v5], unpacked);
    writeWav(join(unpacked, 'school', 'ammonite.wav'), 300); // no longer what checksums.sha256 says
    const bad = join(unpacked, 'bad.tar.gz');
    gnuTar(['-czf', bad, 'school'], unpacked);
    await expect(importBundle({ file: bad, collectionsDir: collections, replace: true })).rejects.toThrow(
      /bad\.tar\.gz was not imported, nothing was changed: ammonite\.wav does not match its checksum/,
    );
    expect(treeHash(collections)).toBe(before);
  });

  it('without replace, still refuses to touch an installed collection', async () => {
    const { collections } = await boxWithV4();
    const before = treeHash(collections);
    await expect(importBundle({ file: v5, collectionsDir: collections })).rejects.toThrow(/already in .*--as NAME/);
    expect(treeHash(collections)).toBe(before);
  });

  it('a process killed between the two renames leaves the old collection, put back by the next import or by repairInterruptedImports', { timeout: 120_000 }, async () => {
    for (const repair of ['next import', 'repair'] as const) {
      const { collections, school } = await boxWithV4();
      const before = treeHash(collections);
      const crashed = spawnSync(process.execPath, ['bin/run-ts.js', 'test/device/fixtures/replace-then-crash.ts', v5, collections, 'school'], {
        cwd: ROOT_DIR,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(crashed.signal).toBe('SIGKILL');
      // The moment the crash caught: no collection in place, the old one inside the hidden folder.
      expect(existsSync(school)).toBe(false);
      expect(readdirSync(collections)).toEqual([expect.stringMatching(/^\.hedgerow-import-\d+-/)]);
      if (repair === 'repair') await repairInterruptedImports(collections);
      else await expect(importBundle({ file: v4, collectionsDir: collections })).rejects.toThrow(/already in/);
      expect(treeHash(collections)).toBe(before);
      expect((await loadCollection(school)).version).toBe(4);
    }
  });
});

describe('the follow source file never travels', () => {
  it('export leaves it out without naming it; import refuses a bundle that carries one', async () => {
    const followed = join(root, `followed-${n++}`, 'school');
    cpSync(source, followed, { recursive: true });
    writeFileSync(join(followed, SOURCE_FILE), '{}\n');
    const file = join(root, `followed-${n++}.tar.gz`);
    const exported = await exportCollection({ collection: followed, file });
    expect(gnuTar(['-tzf', file], root)).not.toContain(SOURCE_FILE);
    expect(exported.leftOut).toEqual(['notes.txt']);

    const collections = join(root, `box-${n++}`);
    mkdirSync(collections);
    const carrying = join(root, `carrying-${n++}.tar.gz`);
    writeFileSync(carrying, craftTarGz([fileEntry(`school/${SOURCE_FILE}`, '{"url":"http://evil.example/"}')]));
    await expect(importBundle({ file: carrying, collectionsDir: collections })).rejects.toThrow(`"school/${SOURCE_FILE}" is a hidden file`);
    expect(readdirSync(collections)).toEqual([]);
  });
});
