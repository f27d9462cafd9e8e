import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RecordingAudioPlayer } from '../../hardware/recording-audio-player.ts';
import type { TagInfo } from '../../hardware/nfc-reader.ts';
import { VirtualNfcReader } from '../../hardware/virtual-nfc-reader.ts';
import { recordProblem, tapRecord } from '../../hardware/core/contract.ts';
import { Outbox } from '../../gateway/outbox.ts';
import { MuseumBox, type MuseumBoxOptions } from '../../device/museum-box.ts';
import { loadCollection } from '../../device/museum-collection.ts';
import { ensureBoxSounds, type BoxSounds } from '../../device/museum-sounds.ts';
import { writeWav } from '../fixtures/audio-files.ts';
import { captureLog } from '../fixtures/captured-log.ts';
import { TapSink } from '../fixtures/tap-sink.ts';
import { ManualClock } from '../hardware/manual-clock.ts';

const root = mkdtempSync(join(tmpdir(), 'hedgerow-box-'));
const school = join(root, 'collections', 'school');
const farm = join(root, 'collections', 'farm');
let sounds: BoxSounds;

const FOSSIL = '04000000000001';
const COIN = '04000000000002';
const GHOST = '04000000000003';
const VOLUME_UP = '040000000000f1';
const NEXT = '040000000000f2';
const TO_NOWHERE = '040000000000f3';

beforeAll(async () => {
  mkdirSync(school, { recursive: true });
  mkdirSync(farm, { recursive: true });
  writeWav(join(school, 'fossil.wav'), 4000);
  writeWav(join(school, 'coin.wav'), 2000);
  writeWav(join(school, 'violette.wav'), 1000);
  writeFileSync(
    join(school, 'manifest.yaml'),
    [
      'title: School',
      'objects:',
      `  - { uid: "${FOSSIL}", id: fossil, title: Fossil, audio: fossil.wav }`,
      `  - { uid: "${COIN}", title: Coin, audio: coin.wav }`,
      `  - { uid: "${GHOST}", title: Ghost, audio: missing.wav }`,
      'admin:',
      `  - { uid: "${VOLUME_UP}", action: volume-up }`,
      `  - { uid: "${NEXT}", action: next-collection }`,
      `  - { uid: "${TO_NOWHERE}", action: "collection:moon" }`,
    ].join('\n'),
  );
  writeWav(join(farm, 'cow.wav'), 1000);
  writeFileSync(join(farm, 'manifest.yaml'), ['title: Farm', 'version: 3', 'objects:', `  - { uid: "${FOSSIL}", title: Cow, audio: cow.wav }`].join('\n'));
  sounds = await ensureBoxSounds(join(root, 'sounds'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function rig(options: Partial<MuseumBoxOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const captured = captureLog();
  const reader = new VirtualNfcReader({ log: captured.log, clock });
  const player = new RecordingAudioPlayer({ clock, log: captured.log });
  const sink = new TapSink();
  const box = new MuseumBox({
    boxId: 'box-7',
    collection: await loadCollection(school),
    collectionsDir: join(root, 'collections'),
    reader,
    player,
    sink,
    sounds,
    log: captured.log,
    clock,
    retapWindowMs: 3000,
    ...options,
  });
  await box.start();
  /** Lets promise callbacks (a sound's end, an NDEF read) run. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  const advance = async (ms: number) => {
    clock.advance(ms);
    await settle();
  };
  const tap = async (uid: string, texts?: string[]) => {
    reader.place({ uid, ...(texts ? { texts } : {}) });
    await settle();
  };
  return { box, reader, player, sink, clock, captured, advance, tap, settle };
}

describe('MuseumBox', () => {
  it('plays a tapped object and records started, then finished with the play time', async () => {
    const { player, sink, reader, advance, tap } = await rig();
    await tap(FOSSIL);
    expect(player.files).toEqual([join(school, 'fossil.wav')]);
    expect(reader.ledStates).toEqual(['ready', 'playing']);
    await advance(4000);
    expect(sink.lines).toEqual([`1000000 ${FOSSIL} fossil started null`, `1004000 ${FOSSIL} fossil finished 4000`]);
    expect(sink.records[0]!.topic).toBe('dt/museum/box-7/tap');
    expect(reader.ledStates).toEqual(['ready', 'playing', 'ready']);
    for (const r of sink.records) expect(tapRecord.safeParse(r).error).toBeUndefined();
  });

  it('lets the sound finish when the tag is taken off (the default)', async () => {
    const { player, sink, reader, advance, tap } = await rig();
    await tap(COIN);
    reader.remove();
    await advance(1000);
    expect(player.playing).toBe(join(school, 'coin.wav'));
    await advance(1000);
    expect(sink.records.map((r) => r.event)).toEqual(['started', 'finished']);
  });

  it('stops the sound when the tag is taken off, if so configured', async () => {
    const { player, sink, reader, advance, tap } = await rig({ onRemove: 'stop' });
    await tap(FOSSIL);
    await advance(1500);
    reader.remove();
    await advance(0);
    expect(player.playing).toBeNull();
    expect(sink.lines.at(-1)).toBe(`1001500 ${FOSSIL} fossil stopped 1500`);
  });

  it('stops the current object when another is tapped', async () => {
    const { player, sink, advance, tap } = await rig();
    await tap(FOSSIL);
    await advance(1000);
    await tap(COIN);
    expect(player.files).toEqual([join(school, 'fossil.wav'), join(school, 'coin.wav')]);
    expect(player.played[0]!.outcome).toBe('stopped');
    expect(sink.lines).toEqual([
      `1000000 ${FOSSIL} fossil started null`,
      `1001000 ${FOSSIL} fossil stopped 1000`,
      `1001000 ${COIN} ${COIN} started null`,
    ]);
  });

  it('ignores a re-tap of the same object within the window, and restarts it after', async () => {
    const { box, player, sink, reader, advance, tap } = await rig();
    const retaps: string[] = [];
    box.on('retap', (e) => retaps.push(e.uid));
    await tap(FOSSIL);
    reader.remove();
    await advance(1000);
    await tap(FOSSIL);
    reader.remove();
    await advance(1000);
    await tap(FOSSIL);
    expect(player.files).toHaveLength(1);
    expect(retaps).toEqual([FOSSIL, FOSSIL]);
    // The window slides with each tap: 3 s after the last one, a tap restarts the story.
    reader.remove();
    await advance(3000);
    await tap(FOSSIL);
    expect(player.files).toHaveLength(2);
    expect(sink.records.map((r) => r.event)).toEqual(['started', 'finished', 'started']);
  });

  it('plays the friendly sound for an unknown tag, logs its UID and records it', async () => {
    const { player, sink, captured, tap } = await rig();
    await tap('04aabbccddeeff');
    expect(player.files).toEqual([sounds.unknown]);
    expect(sink.lines).toEqual(['1000000 04aabbccddeeff null unknown null']);
    expect(tapRecord.safeParse(sink.records[0]).error).toBeUndefined();
    expect(captured.text()).toMatch(/unknown tag 04aabbccddeeff: not in the manifest and no NDEF text records; assign it with `hedgerow box assign`/);
  });

  it('tells a phone from a sticker', async () => {
    const { reader, captured, settle } = await rig();
    reader.place({ uid: '08123456', kind: 'iso14443-4' });
    await settle();
    expect(captured.text()).toMatch(/unknown tag 08123456: a phone or bank card .* use NTAG213\/215\/216 stickers/);
  });

  it('plays a tag known only by its NDEF record', async () => {
    const { player, sink, tap } = await rig();
    await tap('04777777777777', ['{"id":"347","audio":"violette.wav"}']);
    expect(player.files).toEqual([join(school, 'violette.wav')]);
    expect(sink.records[0]).toMatchObject({ uid: '04777777777777', object_id: '347', event: 'started' });
  });

  it('lets the latest tag win while an earlier tag is still being read', async () => {
    const { reader, player, settle } = await rig();
    let release!: (texts: string[]) => void;
    const slow: TagInfo = {
      reader: 'r',
      uid: '04666666666666',
      atr: '',
      kind: 'iso14443-3',
      ndefTexts: () => new Promise((resolve) => (release = resolve)),
    };
    reader.emit('tag', slow);
    await settle();
    reader.emit('tag', { ...slow, uid: COIN, ndefTexts: async () => [] });
    await settle();
    release(['{"audio":"violette.wav"}']);
    await settle();
    expect(player.files).toEqual([join(school, 'coin.wav')]);
  });

  it('names a missing audio file and keeps serving other tags', async () => {
    const { player, sink, captured, tap } = await rig();
    await tap(GHOST);
    expect(player.files).toEqual([]);
    expect(sink.records).toEqual([]);
    expect(captured.problems()).toEqual([
      expect.stringMatching(/cannot play object 04000000000003 .*missing\.wav is missing; copy it into .* or assign the tag again/),
    ]);
    await tap(COIN);
    expect(player.files).toEqual([join(school, 'coin.wav')]);
  });

  it('keeps playing when the outbox cannot store a record, and says so', async () => {
    const { player, sink, captured, tap } = await rig();
    sink.fail = true;
    await tap(COIN);
    expect(player.files).toEqual([join(school, 'coin.wav')]);
    expect(captured.problems()).toEqual([expect.stringContaining('tap record not stored (started 04000000000002)')]);
  });

  it('turns the volume up with an admin tag, and confirms with a sound', async () => {
    const { player, sink, tap } = await rig({ volume: 70, volumeStep: 20 });
    expect(player.volume).toBe(70);
    await tap(VOLUME_UP);
    expect(player.volume).toBe(90);
    expect(player.files).toEqual([sounds.confirm]);
    await tap('04000000000009', ['{"configure":"volume-down"}']);
    expect(player.volume).toBe(70);
    expect(sink.records).toEqual([]);
  });

  it('turns the volume up mid-story without stopping the story, and skips the confirm sound', async () => {
    const { player, sink, captured, advance, tap } = await rig({ volume: 50, volumeStep: 10 });
    await tap(FOSSIL);
    await advance(1000);
    await tap(VOLUME_UP);
    expect(player.volume).toBe(60);
    expect(player.playing).toBe(join(school, 'fossil.wav'));
    expect(player.files).toEqual([join(school, 'fossil.wav')]);
    expect(captured.text()).toContain('museum: volume 60% (the story keeps playing)');
    await tap('04000000000009', ['{"configure":"volume-down"}']);
    expect(player.volume).toBe(50);
    await advance(3000);
    expect(sink.lines).toEqual([`1000000 ${FOSSIL} fossil started null`, `1004000 ${FOSSIL} fossil finished 4000`]);
  });

  it('lets the story play on when an unknown tag is tapped: no "hmm?", but the tap is logged and recorded', async () => {
    const { player, sink, captured, advance, tap } = await rig();
    await tap(FOSSIL);
    await advance(1000);
    await tap('04aabbccddeeff');
    expect(player.files).toEqual([join(school, 'fossil.wav')]);
    expect(player.playing).toBe(join(school, 'fossil.wav'));
    expect(captured.text()).toMatch(/unknown tag 04aabbccddeeff: .*\(no "hmm\?" sound: a story is playing\)/);
    await advance(3000);
    expect(sink.lines).toEqual([
      `1000000 ${FOSSIL} fossil started null`,
      '1001000 04aabbccddeeff null unknown null',
      `1004000 ${FOSSIL} fossil finished 4000`,
    ]);
    // With the story over, an unknown tag gets its sound again.
    await tap('04aabbccddeef0');
    expect(player.files.at(-1)).toBe(sounds.unknown);
  });

  it("names the object's title and audio file in the log", async () => {
    const { captured, tap } = await rig();
    await tap(COIN);
    await tap('04777777777777', ['{"id":"347","audio":"violette.wav","title":"Violette"}']);
    expect(captured.text()).toContain(`museum: tap ${COIN} → "Coin" (coin.wav)`);
    expect(captured.text()).toContain('museum: tap 04777777777777 → "Violette" (violette.wav)');
  });

  it('switches to the next collection with an admin tag, and back round', async () => {
    const { box, player, tap, captured } = await rig();
    await tap(NEXT);
    // farm sorts before school, so "next" after school wraps round to farm.
    await vi.waitFor(() => expect(box.activeCollection.title).toBe('Farm'));
    expect(captured.text()).toContain('switched to collection "Farm"');
    expect(player.files).toEqual([sounds.confirm]);
    await tap(FOSSIL);
    expect(player.files.at(-1)).toBe(join(farm, 'cow.wav'));
  });

  it('names the collection and its version in every tap record, in the outbox: the story that a switch stops keeps its own', async () => {
    const outbox = Outbox.open({ path: join(root, 'outbox.db'), log: captureLog().log });
    try {
      const { box, advance, tap } = await rig({ sink: outbox });
      await tap(FOSSIL);
      await advance(1000);
      await tap(NEXT);
      await vi.waitFor(() => expect(box.activeCollection.name).toBe('farm'));
      await tap(FOSSIL);
      await tap('04aabbccddeeff');
      await box.stop();
      const rows = outbox.readUnsent({ limit: 10 });
      expect(rows.every((row) => row.topic === 'dt/museum/box-7/tap')).toBe(true);
      const records = rows.map((row) => JSON.parse(row.record) as Record<string, unknown>);
      expect(records.map(({ object_id, event, collection, collection_version }) => ({ object_id, event, collection, collection_version }))).toEqual([
        { object_id: 'fossil', event: 'started', collection: 'school', collection_version: 1 },
        // The school story ends when the switch plays its confirm sound, after farm is loaded.
        { object_id: 'fossil', event: 'stopped', collection: 'school', collection_version: 1 },
        { object_id: FOSSIL, event: 'started', collection: 'farm', collection_version: 3 },
        { object_id: null, event: 'unknown', collection: 'farm', collection_version: 3 },
        { object_id: FOSSIL, event: 'stopped', collection: 'farm', collection_version: 3 },
      ]);
      // What the cloud's topic rule checks each record with.
      for (const record of records) expect(recordProblem('tap', record)).toBeUndefined();
    } finally {
      outbox.close();
    }
  });

  it('keeps the collection when an admin tag names one that does not exist', async () => {
    const { box, player, captured, tap } = await rig();
    await tap(TO_NOWHERE);
    await vi.waitFor(() => expect(player.files).toEqual([sounds.unknown]));
    expect(box.activeCollection.title).toBe('School');
    expect(captured.problems()[0]).toMatch(/collection:moon\): no such collection in/);
  });

  it('records the interrupted story as stopped when the box stops', async () => {
    const { box, sink, advance, tap } = await rig();
    await tap(FOSSIL);
    await advance(500);
    await box.stop();
    expect(sink.lines.at(-1)).toBe(`1000500 ${FOSSIL} fossil stopped 500`);
    await advance(5000);
    expect(sink.records).toHaveLength(2);
  });
});
