import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatCollectionListing, listCollection, runBoxList } from '../../device/museum-list.ts';
import { writeWav } from '../fixtures/audio-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'hedgerow-list-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hedgerow box list', () => {
  it('shows every object and admin tag, flags missing audio, and lists files NDEF tags can name', async () => {
    writeWav(join(dir, 'fossil.wav'));
    writeWav(join(dir, 'violette.wav'));
    writeFileSync(
      join(dir, 'manifest.yaml'),
      [
        'title: Village museum',
        'objects:',
        '  - { uid: "04000001", id: fossil, title: Fossil, audio: fossil.wav }',
        '  - { uid: "04000002", title: Clay pipe, audio: pipe.mp3 }',
        'admin:',
        '  - { uid: "040000f1", action: volume-up }',
      ].join('\n'),
    );
    const listing = await listCollection({ collection: dir });
    expect(listing.objects.map((o) => [o.title, o.missing])).toEqual([
      ['Fossil', false],
      ['Clay pipe', true],
    ]);
    expect(listing.missingCount).toBe(1);
    expect(listing.otherAudio).toEqual(['violette.wav']);
    const lines = formatCollectionListing(listing);
    expect(lines[0]).toBe(`Village museum (${join(dir, 'manifest.yaml')})`);
    expect(lines[1]).toBe('  04000001  Fossil     fossil.wav  id fossil');
    expect(lines[2]).toBe('  04000002  Clay pipe  pipe.mp3  MISSING');
    expect(lines).toContain('  040000f1  volume-up');
    expect(lines).toContain('other audio files (NDEF tags can name them): violette.wav');
    expect(lines.at(-1)).toMatch(/^1 audio file missing: copy it into .* or assign the tag again with `hedgerow box assign`$/);
  });

  it('prints the listing and reports whether every audio file is there', async () => {
    const printed: string[] = [];
    expect(await runBoxList({ collection: dir, print: (line) => printed.push(line) })).toBe(false);
    expect(printed[0]).toMatch(/^Village museum/);
    writeWav(join(dir, 'pipe.mp3'));
    expect(await runBoxList({ collection: dir, print: () => undefined })).toBe(true);
  });
});

describe('hedgerow box list with languages and kept originals', () => {
  it('lists each translation under its object, flags a missing one, and does not offer originals as other audio', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'hedgerow-list-lang-'));
    try {
      for (const name of ['owl.wav', 'owl.original.wav', 'owl-cy.wav', 'stray.wav']) writeWav(join(folder, name));
      writeFileSync(
        join(folder, 'manifest.yaml'),
        'objects:\n  - { uid: "04000001", title: Owl, audio: owl.wav, translations: { cy: { audio: owl-cy.wav }, fr: { audio: owl-fr.wav } } }\n',
      );
      const listing = await listCollection({ collection: folder });
      expect(listing.objects[0]!.translations).toEqual([
        { language: 'cy', audio: 'owl-cy.wav', missing: false },
        { language: 'fr', audio: 'owl-fr.wav', missing: true },
      ]);
      expect(listing.missingCount).toBe(1);
      expect(listing.otherAudio).toEqual(['stray.wav']);
      const lines = formatCollectionListing(listing);
      expect(lines.slice(1, 4)).toEqual(['  04000001  Owl    owl.wav', '            (cy)   owl-cy.wav', '            (fr)   owl-fr.wav  MISSING']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
