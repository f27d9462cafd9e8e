import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PlaySoundPlayer } from '../../hardware/audio-player.ts';
import { ProcessNfcReader } from '../../hardware/nfc-process-reader.ts';
import { RecordingAudioPlayer } from '../../hardware/recording-audio-player.ts';
import { VirtualNfcReader } from '../../hardware/virtual-nfc-reader.ts';
import type { OutgoingRecord, RecordSink, TapRecord } from '../../hardware/core/contract.ts';
import { listCollection } from '../../device/museum-list.ts';
import { museumSettings } from '../../device/museum-settings.ts';
import { createAudioPlayer, createMuseumBox, createNfcReader } from '../../device/museum-setup.ts';
import { captureLog } from '../fixtures/captured-log.ts';

const root = mkdtempSync(join(tmpdir(), 'hedgerow-setup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('createMuseumBox', () => {
  it('makes the demo collection with espeak-ng at first start, and its virtual reader taps records into the outbox', async () => {
    const collection = join(root, 'collections', 'demo');
    const settings = museumSettings.parse({
      enabled: true,
      boxId: 'demo-box',
      collection,
      reader: { mode: 'virtual', virtualTapEvery: '40ms', virtualHold: '10ms' },
    });
    const records: TapRecord[] = [];
    const sink: RecordSink = { append: (batch: readonly OutgoingRecord[]) => batch.forEach((r) => records.push(r.record as unknown as TapRecord)) };
    const captured = captureLog();
    const log = captured.log;
    const box = await createMuseumBox(settings, { log, sink, dataDir: join(root, 'data') });
    expect(readdirSync(collection).sort()).toEqual(['ammonite.wav', 'manifest.yaml', 'owl-feather.wav', 'roman-coin.wav', 'violette.wav']);
    expect(captured.text()).toContain('(spoken with espeak-ng)');
    const listing = await listCollection({ collection });
    expect(listing.missingCount).toBe(0);
    expect(listing.otherAudio).toEqual(['violette.wav']);

    const played: string[] = [];
    box.on('play', (e) => played.push(e.objectId));
    const unknown: string[] = [];
    box.on('unknown', (e) => unknown.push(e.uid));
    await box.start();
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (unknown.length > 0) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    await box.stop();
    // The demo taps three objects, the NDEF-only Violette, then a tag nobody assigned.
    expect(played.slice(0, 4)).toEqual(['ammonite', '04a1b2c3d4e502', '04a1b2c3d4e503', '347']);
    expect(unknown[0]).toBe('04deadbeef0001');
    expect(records.filter((r) => r.event === 'started').map((r) => r.object_id)).toEqual(expect.arrayContaining(['ammonite', '347']));
    expect(existsSync(join(root, 'data', 'museum-sounds', 'unknown-tag.wav'))).toBe(true);

    // A second start keeps the teacher's collection as it is.
    const again = await createMuseumBox(settings, { log, sink, dataDir: join(root, 'data') });
    expect(again.activeCollection.objects).toHaveLength(3);
  });

  it('builds the real reader and player when asked, and the virtual ones otherwise', async () => {
    const { log } = captureLog();
    const real = museumSettings.parse({ reader: { mode: 'real' }, audio: { mode: 'auto', device: 'null' } });
    const reader = await createNfcReader(real, log);
    expect(reader).toBeInstanceOf(ProcessNfcReader);
    expect(createAudioPlayer(real, log, true)).toBeInstanceOf(PlaySoundPlayer);
    const virtual = museumSettings.parse({ reader: { mode: 'virtual' } });
    expect(await createNfcReader(virtual, log)).toBeInstanceOf(VirtualNfcReader);
    expect(createAudioPlayer(virtual, log, false)).toBeInstanceOf(RecordingAudioPlayer);
    expect(createAudioPlayer(museumSettings.parse({ audio: { mode: 'real' } }), log, false)).toBeInstanceOf(PlaySoundPlayer);
  });

  it('refuses to start without a collection when the demo is off, saying how to make one', async () => {
    const { log } = captureLog();
    const settings = museumSettings.parse({ collection: join(root, 'nothing-here'), demo: false, reader: { mode: 'virtual' } });
    await expect(createMuseumBox(settings, { log, sink: { append: () => undefined }, dataDir: root })).rejects.toThrow(
      /no manifest\.yaml, manifest\.yml, manifest\.json here: create the folder's manifest with `hedgerow box assign/,
    );
  });
});
