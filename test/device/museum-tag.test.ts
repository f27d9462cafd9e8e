import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCollection, type Collection } from '../../device/museum-collection.ts';
import { meaningOfNdef, meaningOfUid } from '../../device/museum-tag.ts';

const dir = mkdtempSync(join(tmpdir(), 'hedgerow-tag-'));
let collection: Collection;
beforeAll(async () => {
  writeFileSync(
    join(dir, 'manifest.yaml'),
    ['objects:', '  - { uid: "04010203", id: fossil, title: Fossil, audio: fossil.wav }', '  - { id: "12", title: Twelve, audio: twelve.wav }', 'admin:', '  - { uid: "04999999", action: next-collection }'].join('\n'),
  );
  collection = await loadCollection(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('what a tag means', () => {
  it('finds objects and admin tags by UID', () => {
    expect(meaningOfUid(collection, '04010203')).toEqual({
      kind: 'object',
      objectId: 'fossil',
      title: 'Fossil',
      audioFile: join(dir, 'fossil.wav'),
      missingLanguage: null,
      language: 'en',
    });
    // No French story: the collection's (English) one, and the language asked for, for the box's log line.
    expect(meaningOfUid(collection, '04010203', 'fr')).toMatchObject({ audioFile: join(dir, 'fossil.wav'), missingLanguage: 'fr', language: 'en' });
    expect(meaningOfUid(collection, '04999999')).toEqual({ kind: 'admin', action: 'next-collection' });
    expect(meaningOfUid(collection, '04000000')).toBeNull();
  });

  it('reads Museum in a Box NDEF records: a manifest id, or an audio file in the folder', () => {
    expect(meaningOfNdef(collection, ['{"id":12}'])).toMatchObject({ kind: 'object', objectId: '12', title: 'Twelve' });
    expect(meaningOfNdef(collection, ['{"id":"347","audio":"violette.wav"}'])).toEqual({
      kind: 'object',
      objectId: '347',
      title: '347',
      audioFile: join(dir, 'violette.wav'),
      missingLanguage: null,
      language: null,
    });
    expect(meaningOfNdef(collection, ['{"configure":"volume-down"}'])).toEqual({ kind: 'admin', action: 'volume-down' });
  });

  it('skips records it does not understand and says why a tag stays unknown', () => {
    expect(meaningOfNdef(collection, ['hello', '{"audio":"good.wav"}'])).toMatchObject({ kind: 'object', objectId: 'good.wav' });
    expect(meaningOfNdef(collection, [])).toEqual({ kind: 'unknown', reason: 'not in the manifest and no NDEF text records' });
    expect(meaningOfNdef(collection, ['{"id":"99"}'])).toEqual({ kind: 'unknown', reason: 'NDEF id "99" is not in the manifest and the tag names no audio file' });
    expect(meaningOfNdef(collection, ['{"id":"1","audio":"../../etc/passwd"}'])).toMatchObject({
      kind: 'unknown',
      reason: expect.stringContaining('not a WAV/MP3 file inside the collection folder'),
    });
    expect(meaningOfNdef(collection, ['{"configure":"explode"}', 'plain words'])).toMatchObject({ kind: 'unknown' });
  });
});
