/**
 * The museum box's languages on the real stack: a `language:cy` admin tag, then objects tapped
 * through pcscd + vpcd, each story played by aplay on ALSA's null device. Called from
 * nfc-reader.test.ts, which owns the one pcscd (its socket is fixed), like nfc-reader-hangs.ts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlaySoundPlayer } from '../../hardware/audio-player.ts';
import type { ProcessNfcReader, ProcessNfcReaderOptions } from '../../hardware/nfc-process-reader.ts';
import { encodeWav, tones } from '../../hardware/wav-file.ts';
import { MuseumBox } from '../../device/museum-box.ts';
import { loadCollection } from '../../device/museum-collection.ts';
import { ensureBoxSounds } from '../../device/museum-sounds.ts';
import { captureLog } from '../fixtures/captured-log.ts';
import { nextEvent } from '../fixtures/next-event.ts';
import { TapSink } from '../fixtures/tap-sink.ts';
import { VirtualTag } from '../fixtures/virtual-tag.ts';

export interface LanguageRig {
  port(): number;
  slot0: string;
  dir(): string;
  processReader(options: ProcessNfcReaderOptions): ProcessNfcReader;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

export function describeLanguageTaps(rig: LanguageRig): void {
  describe('museum box languages through pcscd + vpcd', () => {
    const captured = captureLog();
    const played: string[] = [];
    let box: MuseumBox;
    let reader: ProcessNfcReader;
    let folder: string;
    const tags = {} as Record<'owl' | 'fox' | 'welsh', VirtualTag>;

    beforeAll(async () => {
      folder = join(rig.dir(), 'collections', 'bilingual');
      mkdirSync(folder, { recursive: true });
      // Three different sounds, so a checksum tells which one played.
      writeFileSync(join(folder, 'owl.wav'), encodeWav(tones([{ hz: 440, ms: 150 }], 8000), 8000));
      writeFileSync(join(folder, 'owl-cy.wav'), encodeWav(tones([{ hz: 550, ms: 150 }], 8000), 8000));
      writeFileSync(join(folder, 'fox.wav'), encodeWav(tones([{ hz: 660, ms: 150 }], 8000), 8000));
      writeFileSync(
        join(folder, 'manifest.yaml'),
        [
          'title: Bilingual',
          'language: en',
          'objects:',
          '  - { uid: 04000000000d01, title: Owl, audio: owl.wav, translations: { cy: { audio: owl-cy.wav } } }',
          '  - { uid: 04000000000d02, title: Fox, audio: fox.wav }',
          'admin:',
          '  - { uid: 04000000000dc1, action: "language:cy" }',
          '',
        ].join('\n'),
      );
      Object.assign(tags, {
        owl: new VirtualTag({ port: rig.port(), uid: '04000000000d01' }),
        fox: new VirtualTag({ port: rig.port(), uid: '04000000000d02' }),
        welsh: new VirtualTag({ port: rig.port(), uid: '04000000000dc1' }),
      });
      reader = rig.processReader({ log: captured.log, retryMs: 200 });
      box = new MuseumBox({
        boxId: 'bilingual-box',
        collection: await loadCollection(folder),
        collectionsDir: join(rig.dir(), 'collections'),
        reader,
        player: new PlaySoundPlayer({ log: captured.log, device: 'null', onSpawn: (file) => played.push(file) }),
        sink: new TapSink(),
        sounds: await ensureBoxSounds(join(rig.dir(), 'sounds')),
        log: captured.log,
      });
      const attached = nextEvent<string>(reader, 'attached', (name) => name === rig.slot0);
      await box.start();
      await attached;
    });

    afterAll(() => box.stop());
    // A failed test must not leave a tag on the reader for the tests after it.
    afterEach(async () => {
      for (const tag of Object.values(tags)) await tag.remove();
    });

    /** Places the tag until the box acts on it, then takes it off and waits until the reader saw it go. */
    const tap = async (tag: VirtualTag, event: 'play' | 'admin') => {
      const seen = nextEvent(box, event);
      await tag.place();
      await seen;
      const removed = nextEvent(reader, 'removed');
      await tag.remove();
      await removed;
    };

    it('a language:cy tag makes the owl tell its Welsh story; the fox, which has none, falls back to English with one log line', async () => {
      await tap(tags.owl, 'play');
      expect(sha256(played.at(-1)!)).toBe(sha256(join(folder, 'owl.wav')));

      await tap(tags.welsh, 'admin');
      expect(box.activeLanguage).toBe('cy');

      await tap(tags.owl, 'play');
      expect(played.at(-1)).toBe(join(folder, 'owl-cy.wav'));
      expect(sha256(played.at(-1)!)).toBe(sha256(join(folder, 'owl-cy.wav')));
      expect(sha256(played.at(-1)!)).not.toBe(sha256(join(folder, 'owl.wav')));

      await tap(tags.fox, 'play');
      expect(sha256(played.at(-1)!)).toBe(sha256(join(folder, 'fox.wav')));
      expect(captured.lines.filter((line) => line.msg.includes('has no story')).map((line) => line.msg)).toEqual([
        'museum: "Fox" (object 04000000000d02) has no story in "cy"; playing its "en" one (record one with `hedgerow box assign --language cy`)',
      ]);
    });
  });
}
