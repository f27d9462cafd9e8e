import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256, treeHash, writeSchoolCollection } from '../fixtures/collection-bundles.ts';

const CLI = join(import.meta.dirname, '../../bin/hedgerow.js');
const root = mkdtempSync(join(tmpdir(), 'hedgerow-box-bundle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function hedgerow(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

describe('hedgerow box export / import', () => {
  it('exports a collection on one box and imports it on another whose config names its collections folder; a second import is refused with exit 1', { timeout: 240_000 }, () => {
    const school = join(root, 'box-a', 'school');
    writeSchoolCollection(school);
    const exported = hedgerow(['box', 'export', '--collection', school, 'school.tar.gz']);
    expect(exported.stderr).toBe('');
    expect(exported.status).toBe(0);
    expect(exported.stdout).toMatch(/^Exported "School museum" \(school, version 4, en\/fr\): 2 objects, 3 files, \d+ KiB → .*school\.tar\.gz$/m);
    expect(exported.stdout).toMatch(/^Left out \(a bundle carries only the manifest and audio\): notes\.txt$/m);

    const collections = join(root, 'box-b', 'collections');
    mkdirSync(collections, { recursive: true });
    writeFileSync(join(root, 'box-b.yaml'), `museum:\n  collectionsDir: ${collections}\n`);
    const imported = hedgerow(['--config', join(root, 'box-b.yaml'), 'box', 'import', 'school.tar.gz']);
    expect(imported.stderr).toBe('');
    expect(imported.status).toBe(0);
    expect(imported.stdout).toContain(`Imported "School museum" (version 4, en/fr): 2 objects`);
    expect(imported.stdout).toContain('An admin tag with the action collection:school switches the box to it');
    expect(sha256(join(collections, 'school', 'sounds', 'coin.mp3'))).toBe(sha256(join(school, 'sounds', 'coin.mp3')));

    const before = treeHash(collections);
    const again = hedgerow(['--config', join(root, 'box-b.yaml'), 'box', 'import', 'school.tar.gz']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^hedgerow: school\.tar\.gz was not imported, nothing was changed: a collection called "school" is already in .*--as NAME/);
    expect(again.stderr).not.toMatch(/\n\s+at /);
    expect(treeHash(collections)).toBe(before);

    const renamed = hedgerow(['box', 'import', 'school.tar.gz', '--collections', collections, '--as', 'school-2']);
    expect(renamed.status).toBe(0);
    expect(readdirSync(collections).sort()).toEqual(['school', 'school-2']);
  });
});
