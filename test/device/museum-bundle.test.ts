import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCollection } from '../../device/museum-bundle-export.ts';
import { BundleError, bundleInfo, formatChecksums, parseChecksums } from '../../device/museum-bundle-format.ts';
import { importBundle } from '../../device/museum-bundle-import.ts';
import { loadCollection } from '../../device/museum-collection.ts';
import { writeWav } from '../fixtures/audio-files.ts';
import { craftTarGz, fileEntry, gnuTar, sha256, treeHash, writeSchoolCollection } from '../fixtures/collection-bundles.ts';

const root = mkdtempSync(join(tmpdir(), 'hedgerow-bundle-'));
const source = join(root, 'box-a', 'collections', 'school');
const bundle = join(root, 'school.tar.gz');
const EXPORTED_AT = Date.UTC(2026, 11, 7, 9, 30);
let exported: Awaited<ReturnType<typeof exportCollection>>;

beforeAll(async () => {
  writeSchoolCollection(source);
  exported = await exportCollection({ collection: source, file: bundle, now: () => EXPORTED_AT });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh folder under the test root. */
const folder = (name: string) => {
  const dir = join(root, `${name}-${n++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** The exported bundle unpacked by /usr/bin/tar into a fresh folder, for a test to change and pack again. */
function unpacked(): { dir: string; school: string; pack: (name?: string) => string } {
  const dir = folder('unpacked');
  gnuTar(['-xzf', bundle], dir);
  const school = join(dir, 'school');
  const pack = (name = 'changed.tar.gz') => {
    const out = join(dir, name);
    gnuTar(['-czf', out, 'school'], dir);
    return out;
  };
  return { dir, school, pack };
}

/** Rewrites checksums.sha256 for the files now in the folder (a bundle whose sums match a change). */
function resum(school: string, paths: string[]): void {
  writeFileSync(join(school, 'checksums.sha256'), formatChecksums(new Map(paths.map((p) => [p, sha256(join(school, p))]))));
}

describe('hedgerow box export', () => {
  it('writes one tar.gz that tar lists and sha256sum -c checks, with bundle.json describing the collection', () => {
    expect(gnuTar(['-tzf', bundle], root).trim().split('\n')).toEqual([
      'school/',
      'school/bundle.json',
      'school/manifest.yaml',
      'school/ammonite.wav',
      'school/sounds/coin.mp3',
      'school/checksums.sha256',
    ]);
    const { school } = unpacked();
    const check = spawnSync('sha256sum', ['-c', 'checksums.sha256'], { cwd: school, encoding: 'utf8' });
    expect(check.status).toBe(0);
    expect(check.stdout.trim().split('\n').sort()).toEqual(['ammonite.wav: OK', 'bundle.json: OK', 'manifest.yaml: OK', 'sounds/coin.mp3: OK']);
    const info = bundleInfo.parse(JSON.parse(readFileSync(join(school, 'bundle.json'), 'utf8')));
    const sizes = ['manifest.yaml', 'ammonite.wav', 'sounds/coin.mp3'].map((p) => statSync(join(source, p)).size);
    expect(info).toEqual({
      format: 'hedgerow-collection-bundle',
      formatVersion: 1,
      name: 'school',
      title: 'School museum',
      version: 4,
      languages: ['en', 'fr'],
      objectCount: 2,
      fileCount: 3,
      totalBytes: sizes.reduce((a, b) => a + b, 0),
      exportedAt: '2026-12-07T09:30:00.000Z',
    });
    expect(exported.info).toEqual(info);
    expect(exported.leftOut).toEqual(['notes.txt']);
  });

  it('only reads the collection: exporting twice gives the same version and the same files', async () => {
    const before = treeHash(source);
    const again = join(root, 'again.tar.gz');
    const second = await exportCollection({ collection: source, file: again, now: () => EXPORTED_AT });
    expect(treeHash(source)).toBe(before);
    expect(second.info.version).toBe(4);
    expect(gunzipSync(readFileSync(again)).equals(gunzipSync(readFileSync(bundle)))).toBe(true);
  });

  it('reproducible: dated by its newest file, an unchanged collection exports to the same bytes, a changed one to others', async () => {
    const first = join(root, 'reproducible-1.tar.gz');
    const second = join(root, 'reproducible-2.tar.gz');
    const a = await exportCollection({ collection: source, file: first, reproducible: true });
    await exportCollection({ collection: source, file: second, reproducible: true });
    expect(sha256(second)).toBe(sha256(first));
    expect(a.info.exportedAt).toBe(new Date(Math.max(...['manifest.yaml', 'ammonite.wav', 'sounds/coin.mp3'].map((p) => statSync(join(source, p)).mtime.getTime()))).toISOString());
    const changed = join(folder('changed'), 'school');
    cpSync(source, changed, { recursive: true, preserveTimestamps: true });
    writeWav(join(changed, 'ammonite.wav'), 500);
    const third = join(root, 'reproducible-3.tar.gz');
    await exportCollection({ collection: changed, file: third, reproducible: true });
    expect(sha256(third)).not.toBe(sha256(first));
  });

  it('refuses a collection whose manifest names a missing file, and writes no bundle', async () => {
    const dir = folder('gappy');
    writeWav(join(dir, 'a.wav'));
    writeFileSync(join(dir, 'manifest.yaml'), 'objects:\n  - { uid: 04000000000a01, title: A, audio: a.wav }\n  - { uid: 04000000000b02, title: B, audio: b.wav }\n');
    const out = join(root, 'gappy.tar.gz');
    await expect(exportCollection({ collection: dir, file: out })).rejects.toThrow(/the manifest names audio the folder lacks \(b\.wav\): copy it into .* or assign that tag again/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root).filter((name) => name.includes('gappy.tar.gz'))).toEqual([]);
  });
});

describe('hedgerow box import', () => {
  it('installs the bundle beside the other collections of a second box: the same bytes, a loadable collection', async () => {
    const collections = folder('box-b');
    const result = await importBundle({ file: bundle, collectionsDir: collections });
    expect(result.dir).toBe(join(collections, 'school'));
    expect(readdirSync(collections)).toEqual(['school']);
    for (const path of ['manifest.yaml', 'ammonite.wav', 'sounds/coin.mp3']) expect(sha256(join(result.dir, path))).toBe(sha256(join(source, path)));
    // bundle.json and the checksums travel with it, so the installed folder can be checked again with sha256sum -c.
    expect(readdirSync(result.dir).sort()).toEqual(['ammonite.wav', 'bundle.json', 'checksums.sha256', 'manifest.yaml', 'sounds']);
    const collection = await loadCollection(result.dir);
    expect({ name: collection.name, version: collection.version, objects: collection.objects.length }).toEqual({ name: 'school', version: 4, objects: 2 });
  });

  it('refuses a name that is taken, leaving the old collection as it was; --as installs it under another name', async () => {
    const collections = folder('box-c');
    await importBundle({ file: bundle, collectionsDir: collections });
    writeFileSync(join(collections, 'school', 'ammonite.wav'), 'the local version');
    const before = treeHash(collections);
    await expect(importBundle({ file: bundle, collectionsDir: collections })).rejects.toThrow(
      /was not imported, nothing was changed: a collection called "school" is already in .*: import this one under another name with --as NAME/,
    );
    expect(treeHash(collections)).toBe(before);
    await expect(importBundle({ file: bundle, collectionsDir: collections, as: '../escape' })).rejects.toThrow(/--as "\.\.\/escape": a collection name is one folder name/);
    const copy = await importBundle({ file: bundle, collectionsDir: collections, as: 'school-from-leeds' });
    expect(copy.dir).toBe(join(collections, 'school-from-leeds'));
    expect(readFileSync(join(collections, 'school', 'ammonite.wav'), 'utf8')).toBe('the local version');
    await expect(importBundle({ file: bundle, collectionsDir: collections, as: 'school-from-leeds' })).rejects.toThrow(/already exists: pick another name with --as/);
  });

  it('creates a missing collections folder, and a failed import removes it again', async () => {
    const parent = folder('fresh-box');
    await expect(importBundle({ file: join(root, 'no-such.tar.gz'), collectionsDir: join(parent, 'collections') })).rejects.toThrow(/cannot read it \(ENOENT\): check the path/);
    const bad = join(parent, 'bad.tar.gz');
    writeFileSync(bad, craftTarGz([fileEntry('school/run.sh', 'rm -rf /')]));
    await expect(importBundle({ file: bad, collectionsDir: join(parent, 'collections') })).rejects.toThrow(BundleError);
    expect(readdirSync(parent)).toEqual(['bad.tar.gz']);
    await importBundle({ file: bundle, collectionsDir: join(parent, 'collections') });
    expect(readdirSync(join(parent, 'collections'))).toEqual(['school']);
  });
});

describe('import refuses a malicious or broken bundle with its reason, and changes nothing', () => {
  const info = () => readFileSync(join(unpacked().school, 'bundle.json'));
  const cases: { name: string; build: () => string; reason: RegExp }[] = [
    {
      name: 'a path that climbs out with ../',
      build: () => write(craftTarGz([fileEntry('school/bundle.json', info()), fileEntry('school/../../evil.wav', 'x')])),
      reason: /"school\/\.\.\/\.\.\/evil\.wav" climbs out with "\.\."/,
    },
    {
      name: 'an absolute path',
      build: () => write(craftTarGz([fileEntry('/tmp/hedgerow-evil.wav', 'x')])),
      reason: /"\/tmp\/hedgerow-evil\.wav" is an absolute path/,
    },
    {
      name: 'a symlink (packed by /usr/bin/tar)',
      build: () => {
        const { school, pack } = unpacked();
        symlinkSync('/etc/passwd', join(school, 'evil.wav'));
        return pack();
      },
      reason: /"school\/evil\.wav" is a symbolic link to "\/etc\/passwd": a bundle holds only files and folders/,
    },
    {
      name: 'a hard link (packed by /usr/bin/tar)',
      build: () => {
        const { school, pack } = unpacked();
        linkSync(join(school, 'ammonite.wav'), join(school, 'copy.wav'));
        return pack();
      },
      reason: /is a hard link to "school\/(ammonite|copy)\.wav"/,
    },
    {
      name: 'a device file',
      build: () => write(craftTarGz([{ header: { path: 'school/zero.wav', type: 'CharacterDevice', devmaj: 1, devmin: 5 } }])),
      reason: /"school\/zero\.wav" is a CharacterDevice/,
    },
    {
      name: 'an entry declaring 2 GB (with 4 KB behind it)',
      build: () => write(craftTarGz([{ header: { path: 'school/huge.wav', type: 'File', size: 2 * 1024 ** 3 }, body: Buffer.alloc(4096) }])),
      reason: /school\/huge\.wav declares 2048\.0 MiB, more than a box imports \(1024\.0 MiB in all\)/,
    },
    {
      name: 'bundle.json declaring 5 GB of files',
      build: () => {
        const { school, pack } = unpacked();
        const json = JSON.parse(readFileSync(join(school, 'bundle.json'), 'utf8')) as Record<string, unknown>;
        writeFileSync(join(school, 'bundle.json'), JSON.stringify({ ...json, totalBytes: 5 * 1024 ** 3 }));
        resum(school, ['bundle.json', 'manifest.yaml', 'ammonite.wav', 'sounds/coin.mp3']);
        return pack();
      },
      reason: /bundle\.json declares 5120\.0 MiB of files, more than a box imports/,
    },
    {
      name: 'an unknown file type',
      build: () => {
        const { school, pack } = unpacked();
        writeFileSync(join(school, 'run.sh'), '#!/bin/sh\n');
        resum(school, ['bundle.json', 'manifest.yaml', 'ammonite.wav', 'sounds/coin.mp3', 'run.sh']);
        return pack();
      },
      reason: /"school\/run\.sh" is not a file type a collection holds/,
    },
    {
      name: 'a checksum mismatch',
      build: () => {
        const { school, pack } = unpacked();
        writeWav(join(school, 'ammonite.wav'), 301);
        return pack();
      },
      reason: /ammonite\.wav does not match its checksum: the bundle was damaged or changed on the way; export it again/,
    },
    {
      name: 'a manifest naming a file the bundle lacks',
      build: () => {
        const { school, pack } = unpacked();
        unlinkSync(join(school, 'sounds', 'coin.mp3'));
        resum(school, ['bundle.json', 'manifest.yaml', 'ammonite.wav']);
        return pack();
      },
      reason: /the manifest names sounds\/coin\.mp3, which the bundle lacks/,
    },
    {
      name: 'a manifest that fails the collection schema',
      build: () => {
        const { school, pack } = unpacked();
        writeFileSync(join(school, 'manifest.yaml'), 'objects:\n  - { uid: 04000000000a01, title: A, audio: ../../etc/passwd.wav }\n');
        resum(school, ['bundle.json', 'manifest.yaml', 'ammonite.wav', 'sounds/coin.mp3']);
        return pack();
      },
      reason: /its manifest has problems:\n {2}- objects\.0\.audio: "\.\.\/\.\.\/etc\/passwd\.wav" is outside the collection folder/,
    },
    {
      name: 'a bundle cut short',
      build: () => {
        const whole = readFileSync(bundle);
        return write(whole.subarray(0, Math.floor(whole.length / 2)));
      },
      reason: /it ends too early \(cut short while copying\?\): copy it again/,
    },
    {
      name: 'a file that is no tar.gz',
      build: () => write(Buffer.from('RIFF....WAVEfmt this is a sound, not a bundle')),
      reason: /it is not a gzip-compressed tar/,
    },
  ];

  let collections: string;
  beforeAll(async () => {
    // The second box already has a collection of its own, which must come through every refusal untouched.
    collections = folder('box-d');
    await importBundle({ file: bundle, collectionsDir: collections, as: 'farm' });
  });

  it.each(cases)('$name', async ({ build, reason }) => {
    const file = build();
    const before = treeHash(collections);
    const refusal = importBundle({ file, collectionsDir: collections });
    await expect(refusal).rejects.toThrow(BundleError);
    await expect(refusal).rejects.toThrow(reason);
    await expect(refusal).rejects.toThrow(/was not imported, nothing was changed/);
    expect(treeHash(collections)).toBe(before);
    expect(readdirSync(collections)).toEqual(['farm']);
    expect(existsSync('/tmp/hedgerow-evil.wav')).toBe(false);
  });

  it('stops reading at the limit: a small bundle followed by 8 MiB of zeros in its gzip stream (a gzip bomb) is refused', async () => {
    const tar = gunzipSync(readFileSync(bundle));
    const file = write(gzipSync(Buffer.concat([tar, Buffer.alloc(8 * 1024 ** 2)])));
    const before = treeHash(collections);
    await expect(importBundle({ file, collectionsDir: collections, limits: { maxBytes: 1024 ** 2, maxEntries: 100 } })).rejects.toThrow(
      /it unpacks to more than a box imports \(1\.0 MiB\)/,
    );
    expect(treeHash(collections)).toBe(before);
    // The same bundle without the zeros fits those limits.
    await importBundle({ file: bundle, collectionsDir: collections, as: 'within-limits', limits: { maxBytes: 1024 ** 2, maxEntries: 100 } });
    rmSync(join(collections, 'within-limits'), { recursive: true });
  });

  it('parses checksums in sha256sum binary mode too, and names a line that is neither', () => {
    const sum = 'a'.repeat(64);
    expect(parseChecksums(`${sum} *a.wav\n${sum}  b c.wav\n`)).toEqual(new Map([['a.wav', sum], ['b c.wav', sum]]));
    expect(() => parseChecksums('nonsense\n')).toThrow(/checksums\.sha256 line 1 is not "<sha256> {2}<file>"/);
  });
});

function write(data: Buffer): string {
  const path = join(root, `crafted-${n++}.tar.gz`);
  writeFileSync(path, data);
  return path;
}

describe('a collection with translations', () => {
  it('carries every language\'s story, lists the languages in bundle.json, and refuses to export one whose translation is missing', async () => {
    const dir = join(folder('translated'), 'welsh');
    mkdirSync(dir, { recursive: true });
    writeWav(join(dir, 'owl.wav'), 300);
    writeWav(join(dir, 'owl-cy.wav'), 200);
    writeFileSync(join(dir, 'manifest.yaml'), 'title: Owls\nlanguage: en\nobjects:\n  - { uid: 04000000000c03, title: Owl, audio: owl.wav, translations: { cy: { audio: owl-cy.wav } } }\n');
    const file = join(root, 'welsh.tar.gz');
    await exportCollection({ collection: dir, file });
    const imported = await importBundle({ file, collectionsDir: folder('box-c') });
    expect(sha256(join(imported.dir, 'owl-cy.wav'))).toBe(sha256(join(dir, 'owl-cy.wav')));
    const info = bundleInfo.parse(JSON.parse(gnuTar(['-xzOf', file, 'welsh/bundle.json'], root)));
    expect(info.languages).toEqual(['en', 'cy']);
    unlinkSync(join(dir, 'owl-cy.wav'));
    await expect(exportCollection({ collection: dir, file: join(root, 'welsh-2.tar.gz') })).rejects.toThrow(/owl-cy\.wav/);
    expect(existsSync(join(root, 'welsh-2.tar.gz'))).toBe(false);
  });
});
