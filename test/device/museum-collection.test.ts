import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CollectionError, loadCollection, manifestSchema, normalizeUid, saveManifest } from '../../device/museum-collection.ts';

const root = mkdtempSync(join(tmpdir(), 'hedgerow-collection-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function folder(files: Record<string, string>): string {
  const dir = join(root, `c${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function problems(dir: string): Promise<string[]> {
  try {
    await loadCollection(dir);
  } catch (error) {
    if (error instanceof CollectionError) return [...error.problems];
    throw error;
  }
  throw new Error('the collection loaded');
}

describe('collection manifests', () => {
  it('loads a YAML manifest and finds objects by UID in any spelling, by NDEF id, and admin tags', async () => {
    const dir = folder({
      'manifest.yaml': [
        'title: Rivers and roads',
        'language: fr',
        'objects:',
        '  - uid: "04:A2:24:E2:C8:5E:80"',
        '    id: 347',
        '    title: Violette',
        '    audio: sounds/violette.wav',
        'admin:',
        '  - { uid: 04aabbccdd, action: volume-up }',
        '  - { uid: 04aabbccee, action: "collection:farm" }',
      ].join('\n'),
    });
    const collection = await loadCollection(dir);
    expect(collection.title).toBe('Rivers and roads');
    expect(collection.manifest.language).toBe('fr');
    const object = collection.byUid('04A224E2C85E80')!;
    expect(object).toMatchObject({ uid: '04a224e2c85e80', id: '347', title: 'Violette', description: '', objectId: '347' });
    expect(object.audioFile).toBe(join(dir, 'sounds', 'violette.wav'));
    expect(collection.byId('347')).toBe(object);
    expect(collection.adminAction('04-AA-BB-CC-DD')).toBe('volume-up');
    expect(collection.adminAction('04aabbccee')).toBe('collection:farm');
    expect(collection.byUid('04ffffffff')).toBeUndefined();
  });

  it('loads a JSON manifest; an object without an NDEF id is known by its UID in records', async () => {
    const dir = folder({ 'manifest.json': JSON.stringify({ objects: [{ uid: '04010203', title: 'Coin', audio: 'coin.mp3' }] }) });
    const collection = await loadCollection(dir);
    expect(collection.title).toBe('Untitled collection');
    expect(collection.byUid('04010203')!.objectId).toBe('04010203');
  });

  it('rejects audio paths that leave the collection folder, naming the entry', async () => {
    const dir = folder({
      'manifest.yaml': [
        'objects:',
        '  - { uid: "04010203", title: A, audio: ../../etc/passwd.wav }',
        '  - { uid: "04010204", title: B, audio: /etc/story.wav }',
        '  - { uid: "04010205", title: C, audio: sub/../ok.wav }',
      ].join('\n'),
    });
    const found = await problems(dir);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^objects\.0\.audio: "\.\.\/\.\.\/etc\/passwd\.wav" is outside the collection folder/);
    expect(found[1]).toMatch(/^objects\.1\.audio: "\/etc\/story\.wav" is outside/);
  });

  it('rejects what a typo would make: bad UIDs, unknown keys, unknown actions, non-audio files, duplicates', async () => {
    const dir = folder({
      'manifest.yaml': [
        'objects:',
        '  - { uid: xyz, title: A, audio: a.wav }',
        '  - { uid: "04010203", title: B, audio: b.txt }',
        '  - { uid: "04010203", title: C, audio: c.wav, colour: red }',
        '  - { title: D, audio: d.wav }',
        'admin:',
        '  - { uid: "04010209", action: louder }',
      ].join('\n'),
    });
    const found = await problems(dir);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^objects\.0\.uid: a tag UID is 4 to 10 bytes of hex/),
        expect.stringMatching(/^objects\.1\.audio: audio files must be wav or mp3/),
        expect.stringMatching(/^objects\.2: Unrecognized key: "colour"/),
        expect.stringMatching(/^objects\.3: give the tag uid, an NDEF id, or both/),
        expect.stringMatching(/^admin\.0\.action: /),
      ]),
    );
    const dupes = folder({
      'manifest.yaml': ['objects:', '  - { uid: "04010203", title: B, audio: b.wav }', 'admin:', '  - { uid: "04:01:02:03", action: stop }'].join('\n'),
    });
    expect(await problems(dupes)).toEqual(['admin.0.uid: 04010203 is already used by objects.0.uid']);
  });

  it('says how to start a collection when the folder has no manifest, and can start an empty one', async () => {
    const dir = folder({});
    expect((await problems(dir))[0]).toMatch(/no manifest\.yaml, manifest\.yml, manifest\.json here: create .* `hedgerow box assign --collection /);
    const fresh = await loadCollection(dir, { allowNew: true });
    expect(fresh.objects).toEqual([]);
    expect(fresh.manifestPath).toBe(join(dir, 'manifest.yaml'));
  });

  it('resolves NDEF audio paths inside the folder only', async () => {
    const dir = folder({ 'manifest.yaml': 'title: T\n' });
    const collection = await loadCollection(dir);
    expect(collection.audioFile('violette.wav')).toBe(join(dir, 'violette.wav'));
    expect(collection.audioFile('../other/violette.wav')).toBeNull();
    expect(collection.audioFile('/tmp/x.wav')).toBeNull();
    expect(collection.audioFile('notes.txt')).toBeNull();
  });

  it('saves by writing a new file and renaming it over the old one, leaving no temporary file', async () => {
    const dir = folder({ 'manifest.yaml': 'title: Before\n' });
    const path = join(dir, 'manifest.yaml');
    const before = statSync(path).ino;
    const manifest = manifestSchema.parse({ title: 'After', objects: [{ uid: '04010203', title: 'Coin', audio: 'coin.wav' }] });
    await saveManifest(path, manifest);
    expect(statSync(path).ino).not.toBe(before);
    expect(readdirSync(dir)).toEqual(['manifest.yaml']);
    expect((await loadCollection(dir)).manifest).toEqual(manifest);

    const json = folder({ 'manifest.json': '{}' });
    await saveManifest(join(json, 'manifest.json'), manifest);
    expect(JSON.parse(readFileSync(join(json, 'manifest.json'), 'utf8')).title).toBe('After');
  });

  it('carries a story per language: the old single audio is the collection language, translations add others, a missing one falls back', async () => {
    const dir = folder({
      'manifest.yaml': [
        'language: en',
        'objects:',
        '  - { uid: "04010201", title: Owl, audio: owl.wav, translations: { cy: { audio: owl-cy.wav, text: Tylluan ydw i }, fr: { audio: owl-fr.wav } } }',
        '  - { uid: "04010202", title: Coin, audio: coin.wav }',
        '  - { uid: "04010203", title: Pièce, audio: piece.wav, language: fr }',
        'admin:',
        '  - { uid: "040102f1", action: "language:cy" }',
      ].join('\n'),
    });
    const collection = await loadCollection(dir);
    const owl = collection.byUid('04010201')!;
    expect([...owl.stories.keys()]).toEqual(['en', 'cy', 'fr']);
    expect(collection.storyFor(owl, 'cy')).toEqual({ file: join(dir, 'owl-cy.wav'), language: 'cy', fallback: false });
    expect(collection.storyFor(owl, null)).toEqual({ file: join(dir, 'owl.wav'), language: 'en', fallback: false });
    expect(collection.storyFor(collection.byUid('04010202')!, 'cy')).toEqual({ file: join(dir, 'coin.wav'), language: 'en', fallback: true });
    // No story in the collection's language either: the object's own plays.
    expect(collection.storyFor(collection.byUid('04010203')!, 'cy')).toEqual({ file: join(dir, 'piece.wav'), language: 'fr', fallback: true });
    expect(collection.adminAction('040102f1')).toBe('language:cy');

    const bad = folder({
      'manifest.yaml': [
        'objects:',
        '  - { uid: "04010201", title: Owl, audio: owl.wav, translations: { "Welsh!": { audio: owl-cy.wav }, fr: { audio: ../owl-fr.wav } } }',
        'admin:',
        '  - { uid: "040102f1", action: "language:" }',
      ].join('\n'),
    });
    expect(await problems(bad)).toEqual([
      expect.stringMatching(/^objects\.0\.translations\.Welsh!: use a lower-case language code such as en, fr, cy or pt-br/),
      expect.stringMatching(/^admin\.0\.action: use volume-up, .*language:<code> \(e\.g\. language:fr\)/),
    ]);
    const escaping = folder({ 'manifest.yaml': 'objects:\n  - { uid: "04010201", title: Owl, audio: owl.wav, translations: { fr: { audio: ../owl-fr.wav } } }\n' });
    expect(await problems(escaping)).toEqual([expect.stringMatching(/^objects\.0\.translations\.fr\.audio: "\.\.\/owl-fr\.wav" is outside the collection folder/)]);
  });

  it('normalizes UIDs', () => {
    expect(normalizeUid('04:A2 24-E2')).toBe('04a224e2');
  });
});
