/**
 * The NFC reader and the museum box on the real stack: Debian's pcscd with vsmartcard's vpcd driver,
 * nfc-pcsc in the reader process, and play-sound running aplay on ALSA's null device. Virtual tags
 * speak vpcd's TCP protocol. pcscd's socket is fixed, so every pcscd-based test of the project lives
 * in this one file.
 *
 * Every pcsclite call runs in a reader process (ProcessNfcReader), never in this test process, so the
 * test timeouts (vitest.config.ts: 30 s a test, 60 s a hook) keep firing even when a call hangs; the
 * afterAll at the end kills any reader process a failed test left.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PlaySoundPlayer } from '../../hardware/audio-player.ts';
import { PCSCD_MISSING_HINT } from '../../hardware/nfc-diagnostics.ts';
import { ProcessNfcReader, type ProcessNfcReaderOptions } from '../../hardware/nfc-process-reader.ts';
import type { TagInfo } from '../../hardware/nfc-types.ts';
import type { TapRecord } from '../../hardware/core/contract.ts';
import { runBoxAssign } from '../../device/museum-assign.ts';
import { exportCollection } from '../../device/museum-bundle-export.ts';
import { importBundle } from '../../device/museum-bundle-import.ts';
import { MuseumBox } from '../../device/museum-box.ts';
import { loadCollection } from '../../device/museum-collection.ts';
import { museumSettings } from '../../device/museum-settings.ts';
import { ensureBoxSounds } from '../../device/museum-sounds.ts';
import { Outbox } from '../../gateway/outbox.ts';
import { HeldSound, writeWav } from '../fixtures/audio-files.ts';
import { sha256, writeSchoolCollection } from '../fixtures/collection-bundles.ts';
import { captureLog } from '../fixtures/captured-log.ts';
import { alive, nextEvent } from '../fixtures/next-event.ts';
import { TapSink } from '../fixtures/tap-sink.ts';
import { freePortPair, Pcscd } from '../fixtures/pcscd.ts';
import { VirtualTag } from '../fixtures/virtual-tag.ts';
import { describeReaderHangs } from './nfc-reader-hangs.ts';

const READER = 'ACS ACR122U PICC Interface';
const SLOT0 = `${READER} 00 00`;
const SLOT1 = `${READER} 00 01`;
const BUZZER_OFF = 'ff00520000';
/** For what the reader process reports: it starts through tsx and answers over IPC, so give it time on a loaded machine. */
const WAIT = { timeout: 10_000 };
const LED_PLAYING = 'ff00400f0400000000';

let port: number;
let pcscd: Pcscd;
let dir: string;

/** Every reader this file starts, so afterAll can kill a reader process a failed test left behind. */
const readers: ProcessNfcReader[] = [];
function processReader(options: ProcessNfcReaderOptions): ProcessNfcReader {
  const reader = new ProcessNfcReader(options);
  readers.push(reader);
  return reader;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hedgerow-pcsc-'));
  port = await freePortPair();
  pcscd = new Pcscd([{ name: READER, port }]);
  await pcscd.start();
});

afterAll(async () => {
  for (const reader of readers) {
    const pid = reader.pid;
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
  }
  await pcscd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The next `event` whose payload passes `test`, or a timeout that names what was awaited. */
const isReadBinary = (apdu: Buffer) => apdu[0] === 0xff && apdu[1] === 0xb0;

describe('the reader process on pcscd + vpcd', () => {
  const captured = captureLog();
  let reader: ProcessNfcReader;

  beforeAll(async () => {
    reader = processReader({ log: captured.log, retryMs: 200, noReaderHintMs: 60_000 });
    const attached: string[] = [];
    const both = new Promise<void>((resolve) =>
      reader.on('attached', (name) => {
        attached.push(name);
        if (attached.length === 2) resolve();
      }),
    );
    await reader.start();
    await both;
    expect(attached.sort()).toEqual([SLOT0, SLOT1]);
  });

  afterAll(() => reader.stop());

  it('reads the UID at a tap, turns the ACR122U buzzer off, and reads NDEF pages only when asked', async () => {
    const tag = new VirtualTag({ port, uid: '04A224E2C85E80', texts: ['{"id":"347","audio":"violette.wav"}'] });
    let readsBeforeEvent = -1;
    const tapped = nextEvent<TagInfo>(reader, 'tag');
    reader.once('tag', () => (readsBeforeEvent = tag.apdus.filter(isReadBinary).length));
    await tag.place();
    const info = await tapped;
    expect(info).toMatchObject({ reader: SLOT0, uid: '04a224e2c85e80', kind: 'iso14443-3' });
    expect(info.atr).toMatch(/^3b8f8001804f0c/);
    expect(readsBeforeEvent).toBe(0);
    expect(await info.ndefTexts()).toEqual(['{"id":"347","audio":"violette.wav"}']);
    expect(tag.apdus.filter(isReadBinary).length).toBeGreaterThan(0);
    // vpcd refuses escape commands, so the buzzer goes off over the first tag's connection.
    await vi.waitFor(() => expect(tag.apdus.map((a) => a.toString('hex'))).toContain(BUZZER_OFF), WAIT);
    const removed = nextEvent<{ uid: string }>(reader, 'removed');
    await tag.remove();
    expect(await removed).toEqual({ reader: SLOT0, uid: '04a224e2c85e80' });
  });

  it('reads a formatted tag without NDEF records as none, on the second slot too', async () => {
    const tag = new VirtualTag({ port: port + 1, uid: '04010203040506' });
    const tapped = nextEvent<TagInfo>(reader, 'tag');
    await tag.place();
    const info = await tapped;
    expect(info.reader).toBe(SLOT1);
    expect(await info.ndefTexts()).toEqual([]);
    const removed = nextEvent(reader, 'removed');
    await tag.remove();
    await removed;
  });

  it('survives a phone (ISO 14443-4): reports its UID, reads no pages, and keeps serving tags', async () => {
    const phone = new VirtualTag({ port, uid: '08a1b2c3', kind: 'iso14443-4' });
    const tapped = nextEvent<TagInfo>(reader, 'tag');
    await phone.place();
    const info = await tapped;
    expect(info).toMatchObject({ uid: '08a1b2c3', kind: 'iso14443-4' });
    expect(await info.ndefTexts()).toEqual([]);
    expect(phone.apdus.filter(isReadBinary)).toEqual([]);
    const gone = nextEvent(reader, 'removed');
    await phone.remove();
    await gone;

    const sticker = new VirtualTag({ port, uid: '04bbbbbbbbbb01' });
    const again = nextEvent<TagInfo>(reader, 'tag');
    await sticker.place();
    expect((await again).uid).toBe('04bbbbbbbbbb01');
    const removed = nextEvent(reader, 'removed');
    await sticker.remove();
    await removed;
    expect(captured.lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('recovers when the readers go away with pcscd and come back, logging both', async () => {
    const detached = nextEvent(reader, 'detached');
    await pcscd.kill();
    await detached;
    await vi.waitFor(() => expect(captured.text()).toContain(PCSCD_MISSING_HINT), WAIT);
    const attached = nextEvent<string>(reader, 'attached', (name) => name === SLOT0);
    await pcscd.start();
    await attached;
    const log = captured.text();
    expect(log).toContain(`NFC reader detached: ${SLOT0}`);
    expect(log).toMatch(/lost pcscd/);
    expect(log).toContain('NFC: pcscd answers again');
    expect(log.match(new RegExp(`NFC reader attached: ${SLOT0}`, 'g'))).toHaveLength(2);

    const tag = new VirtualTag({ port, uid: '04cccccccccc01' });
    const tapped = nextEvent<TagInfo>(reader, 'tag');
    await tag.place();
    expect((await tapped).uid).toBe('04cccccccccc01');
    const removed = nextEvent(reader, 'removed');
    await tag.remove();
    await removed;
  });
});

describe('readerName', () => {
  it('uses only the reader it names and closes the others', async () => {
    const captured = captureLog();
    const reader = processReader({ log: captured.log, readerName: '00 01' });
    const attached: string[] = [];
    reader.on('attached', (name) => attached.push(name));
    try {
      const ready = nextEvent<string>(reader, 'attached');
      await reader.start();
      expect(await ready).toBe(SLOT1);
      const tag = new VirtualTag({ port: port + 1, uid: '04dddddddddd01' });
      const tapped = nextEvent<TagInfo>(reader, 'tag');
      await tag.place();
      expect(await tapped).toMatchObject({ reader: SLOT1, uid: '04dddddddddd01' });
      const removed = nextEvent(reader, 'removed');
      await tag.remove();
      await removed;
      expect(attached).toEqual([SLOT1]);
      expect(captured.text()).toContain(`NFC: ignoring reader "${SLOT0}" (readerName is "00 01")`);
    } finally {
      await reader.stop();
    }
  });
});

describe('no reader at start', () => {
  it('waits for pcscd, then explains the usual reasons while pcscd has no reader, then picks the reader up', async () => {
    const captured = captureLog();
    const modules = join(dir, 'modules');
    writeFileSync(modules, 'pn533_usb 20480 0 - Live 0x0\npn533 40960 1 pn533_usb, Live 0x0\n');
    await pcscd.kill();
    const reader = processReader({ log: captured.log, retryMs: 150, noReaderHintMs: 300, modulesPath: modules });
    const empty = new Pcscd([]);
    try {
      await reader.start();
      await vi.waitFor(() => expect(captured.problems()).toContainEqual(expect.stringContaining(PCSCD_MISSING_HINT)), WAIT);

      await empty.start();
      await vi.waitFor(() => expect(captured.problems()).toContainEqual(expect.stringContaining('no NFC reader found yet')), WAIT);
      const hint = captured.problems().find((p) => p.includes('no NFC reader found yet'))!;
      expect(hint).toContain('pn533_usb, pn533 are loaded and hold the ACR122U');
      expect(hint).toContain('/etc/modprobe.d/blacklist-pn533.conf');
      await empty.stop();

      const attached = nextEvent<string>(reader, 'attached', (name) => name === SLOT0);
      await pcscd.start();
      await attached;
    } finally {
      await reader.stop();
      await empty.stop();
      if (!pcscd.running) await pcscd.start();
    }
  });
});

describe('museum box end to end: pcscd, nfc-pcsc, play-sound with aplay on ALSA null', () => {
  const captured = captureLog();
  const sink = new TapSink();
  const spawned: { file: string; pid: number }[] = [];
  let box: MuseumBox;
  let reader: ProcessNfcReader;
  let folder: string;
  let unknownSound: string;
  const tags = {} as Record<'a' | 'b' | 'c' | 'stranger' | 'ndefOnly', VirtualTag>;

  beforeAll(async () => {
    Object.assign(tags, {
      a: new VirtualTag({ port, uid: '04000000000a01' }),
      b: new VirtualTag({ port, uid: '04000000000b02' }),
      c: new VirtualTag({ port, uid: '04000000000c03' }),
      stranger: new VirtualTag({ port, uid: '04ffffffffff99' }),
      ndefOnly: new VirtualTag({ port, uid: '04aaaaaaaaaa47', texts: ['{"id":"347","audio":"violette.wav"}'] }),
    });
    folder = join(dir, 'collections', 'school');
    mkdirSync(folder, { recursive: true });
    writeWav(join(folder, 'violette.wav'));
    writeFileSync(
      join(folder, 'manifest.yaml'),
      [
        'title: School museum',
        'objects:',
        '  - { uid: "04:00:00:00:00:0A:01", title: Ammonite, audio: story-a.wav }',
        '  - { uid: 04000000000b02, id: coin, title: Roman coin, audio: story-b.wav }',
        '  - { uid: 04000000000c03, title: Owl feather, audio: story-c.wav }',
        '',
      ].join('\n'),
    );
    const sounds = await ensureBoxSounds(join(dir, 'sounds'));
    unknownSound = sounds.unknown;
    reader = processReader({ log: captured.log, retryMs: 200 });
    const player = new PlaySoundPlayer({ log: captured.log, device: 'null', onSpawn: (file, pid) => spawned.push({ file, pid: pid! }) });
    box = new MuseumBox({
      boxId: 'school-box',
      collection: await loadCollection(folder),
      collectionsDir: join(dir, 'collections'),
      reader,
      player,
      sink,
      sounds,
      log: captured.log,
      retapWindowMs: 10_000,
    });
    const attached = nextEvent<string>(reader, 'attached', (name) => name === SLOT0);
    await box.start();
    await attached;
  });

  afterAll(() => box.stop());

  // A failed test must not leave a tag on the reader or a player waiting on its FIFO for the next one.
  const held: HeldSound[] = [];
  afterEach(async () => {
    for (const tag of Object.values(tags)) await tag.remove();
    for (const sound of held.splice(0)) sound.end();
  });

  const story = (name: string) => {
    const sound = new HeldSound(join(folder, name));
    held.push(sound);
    return sound;
  };

  it('tap plays the object; taking the tag off lets it finish; records started and finished', async () => {
    const sound = story('story-a.wav');
    const playing = nextEvent<{ file: string }>(box, 'play');
    await tags.a.place();
    expect((await playing).file).toBe(join(folder, 'story-a.wav'));
    const proc = spawned.at(-1)!;
    expect(proc.file).toBe(join(folder, 'story-a.wav'));
    expect(alive(proc.pid)).toBe(true);
    await vi.waitFor(() => expect(tags.a.apdus.map((a) => a.toString('hex'))).toContain(LED_PLAYING), WAIT);

    const removed = nextEvent(reader, 'removed');
    await tags.a.remove();
    await removed;
    expect(alive(proc.pid)).toBe(true);

    const ended = nextEvent<{ outcome: string }>(box, 'ended');
    await sound.openedBy(proc.pid);
    sound.end();
    expect((await ended).outcome).toBe('finished');
    const mine = sink.records.filter((r) => r.uid === '04000000000a01');
    expect(mine.map((r) => r.event)).toEqual(['started', 'finished']);
    expect(mine[0]).toMatchObject({ topic: 'dt/museum/school-box/tap', deviceId: 'school-box', object_id: '04000000000a01', play_duration_ms: null });
    expect(mine[1]!.play_duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('another object stops the current one: its player process is killed and the new file plays', async () => {
    story('story-b.wav');
    const second = story('story-a.wav');
    const playingB = nextEvent<{ file: string }>(box, 'play');
    await tags.b.place();
    await playingB;
    const procB = spawned.at(-1)!;
    expect(procB.file).toBe(join(folder, 'story-b.wav'));
    const removed = nextEvent(reader, 'removed');
    await tags.b.remove();
    await removed;

    const stoppedB = nextEvent<{ objectId: string; outcome: string }>(box, 'ended');
    const playingA = nextEvent<{ file: string }>(box, 'play');
    await tags.a.place();
    expect((await playingA).file).toBe(join(folder, 'story-a.wav'));
    expect(await stoppedB).toMatchObject({ objectId: 'coin', outcome: 'stopped' });
    await vi.waitFor(() => expect(alive(procB.pid)).toBe(false), WAIT);
    const procA = spawned.at(-1)!;
    expect(procA.file).toBe(join(folder, 'story-a.wav'));
    expect(alive(procA.pid)).toBe(true);

    const ended = nextEvent<{ outcome: string }>(box, 'ended');
    const gone = nextEvent(reader, 'removed');
    await tags.a.remove();
    await gone;
    await second.openedBy(procA.pid);
    second.end();
    expect((await ended).outcome).toBe('finished');
    const events = sink.records.slice(-4).map((r) => `${r.object_id} ${r.event}`);
    expect(events).toEqual(['coin started', 'coin stopped', '04000000000a01 started', '04000000000a01 finished']);
  });

  it('re-tapping the same object within the window neither restarts nor stacks the sound', async () => {
    const sound = story('story-c.wav');
    const playing = nextEvent(box, 'play');
    await tags.c.place();
    await playing;
    const spawnedBefore = spawned.length;
    const proc = spawned.at(-1)!;
    const removed = nextEvent(reader, 'removed');
    await tags.c.remove();
    await removed;

    const retap = nextEvent<{ uid: string }>(box, 'retap');
    await tags.c.place();
    expect((await retap).uid).toBe('04000000000c03');
    expect(spawned.length).toBe(spawnedBefore);
    expect(alive(proc.pid)).toBe(true);
    const gone = nextEvent(reader, 'removed');
    await tags.c.remove();
    await gone;
    const ended = nextEvent<{ outcome: string }>(box, 'ended');
    await sound.openedBy(proc.pid);
    sound.end();
    expect((await ended).outcome).toBe('finished');
    expect(sink.records.filter((r) => r.uid === '04000000000c03').map((r) => r.event)).toEqual(['started', 'finished']);
  });

  it('an unknown tag plays the friendly sound and logs its UID for assignment', async () => {
    const unknown = nextEvent<{ uid: string }>(box, 'unknown');
    await tags.stranger.place();
    expect((await unknown).uid).toBe('04ffffffffff99');
    expect(spawned.at(-1)!.file).toBe(unknownSound);
    expect(captured.text()).toMatch(/unknown tag 04ffffffffff99: .*hedgerow box assign/);
    expect(sink.records.at(-1)).toMatchObject({ uid: '04ffffffffff99', object_id: null, event: 'unknown' });
    const removed = nextEvent(reader, 'removed');
    await tags.stranger.remove();
    await removed;
  });

  it('a tag the manifest does not list plays the audio its NDEF record names', async () => {
    const playing = nextEvent<{ file: string; objectId: string }>(box, 'play');
    await tags.ndefOnly.place();
    expect(await playing).toMatchObject({ file: join(folder, 'violette.wav'), objectId: '347' });
    expect(spawned.at(-1)!.file).toBe(join(folder, 'violette.wav'));
    await vi.waitFor(() => expect(sink.records.at(-1)).toMatchObject({ object_id: '347', event: 'finished' }), WAIT);
    const removed = nextEvent(reader, 'removed');
    await tags.ndefOnly.remove();
    await removed;
  });

  it('plays again after the reader disappears and comes back, without a restart', async () => {
    const detached = nextEvent(reader, 'detached', (name) => name === SLOT0);
    await pcscd.kill();
    await detached;
    const attached = nextEvent(reader, 'attached', (name) => name === SLOT0);
    await pcscd.start();
    await attached;
    story('story-b.wav');
    const playing = nextEvent<{ file: string }>(box, 'play');
    await tags.b.place();
    expect((await playing).file).toBe(join(folder, 'story-b.wav'));
    expect(spawned.at(-1)!.file).toBe(join(folder, 'story-b.wav'));
    const removed = nextEvent(reader, 'removed');
    await tags.b.remove();
    await removed;
    expect(captured.text()).toContain(`NFC reader detached: ${SLOT0}`);
    expect(captured.text()).toContain(`NFC reader attached: ${SLOT0}`);
    expect(captured.lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});

describe('hedgerow box assign on the real reader', () => {
  it('waits for a tap through pcscd, speaks the message and saves the manifest, then lets go of the reader', async () => {
    const collection = join(dir, 'collections', 'assigned');
    const tag = new VirtualTag({ port, uid: '04123456789abc' });
    const asked: string[] = [];
    const prompt = {
      say: (line: string) => {
        if (line.startsWith('Tap the tag')) void tag.place();
      },
      ask: async (question: string) => {
        asked.push(question);
        return '';
      },
      close: () => undefined,
    };
    const { log } = captureLog();
    const result = await runBoxAssign({
      settings: museumSettings.parse({ reader: { mode: 'real' } }),
      log,
      collection,
      prompt,
      title: 'Sheep bell',
      text: 'Ding dong, the sheep are coming home.',
      language: 'en',
    });
    expect(result.uid).toBe('04123456789abc');
    expect((await loadCollection(collection)).byUid('04123456789abc')).toMatchObject({ title: 'Sheep bell', audio: 'sheep-bell.wav' });
    expect(asked).toEqual([]);
    await tag.remove();
  });
});

describe('a collection sent to another box: export, import, tap through pcscd', () => {
  it('plays the same story on the second box (sha256 of the played file) and records the collection and its version in the outbox', { timeout: 120_000 }, async () => {
    const source = join(dir, 'box-a', 'collections', 'school');
    writeSchoolCollection(source);
    const bundle = join(dir, 'school.tar.gz');
    await exportCollection({ collection: source, file: bundle });
    const imported = await importBundle({ file: bundle, collectionsDir: join(dir, 'box-b', 'collections') });

    const captured = captureLog();
    const outbox = Outbox.open({ path: join(dir, 'box-b-outbox.db'), log: captured.log });
    const played: string[] = [];
    const reader = processReader({ log: captured.log, retryMs: 200 });
    const box = new MuseumBox({
      boxId: 'box-b',
      collection: await loadCollection(imported.dir),
      collectionsDir: join(dir, 'box-b', 'collections'),
      reader,
      player: new PlaySoundPlayer({ log: captured.log, device: 'null', onSpawn: (file) => played.push(file) }),
      sink: outbox,
      sounds: await ensureBoxSounds(join(dir, 'sounds')),
      log: captured.log,
    });
    const tags = [new VirtualTag({ port, uid: '04000000000a01' }), new VirtualTag({ port, uid: '04000000000b02' })];
    try {
      // Generous waits: the reader process starts through tsx, slow on a loaded machine.
      const attached = nextEvent<string>(reader, 'attached', (name) => name === SLOT0, 30_000);
      await box.start();
      await attached;
      for (const [tag, story] of [[tags[0]!, 'ammonite.wav'], [tags[1]!, 'sounds/coin.mp3']] as const) {
        const ended = nextEvent<{ outcome: string }>(box, 'ended', undefined, 15_000);
        await tag.place();
        expect((await ended).outcome).toBe('finished');
        expect(played.at(-1)).toBe(join(imported.dir, story));
        expect(sha256(played.at(-1)!)).toBe(sha256(join(source, story)));
        const removed = nextEvent(reader, 'removed', undefined, 15_000);
        await tag.remove();
        await removed;
      }
      const records = outbox.readUnsent({ limit: 10 }).map((row) => ({ topic: row.topic, ...(JSON.parse(row.record) as Partial<TapRecord>) }));
      expect(records.map(({ topic, object_id, event, collection, collection_version }) => ({ topic, object_id, event, collection, collection_version }))).toEqual(
        [['04000000000a01', 'started'], ['04000000000a01', 'finished'], ['coin', 'started'], ['coin', 'finished']].map(([object_id, event]) => ({
          topic: 'dt/museum/box-b/tap', object_id, event, collection: 'school', collection_version: 4,
        })),
      );
    } finally {
      for (const tag of tags) await tag.remove();
      await box.stop();
      outbox.close();
    }
  });
});

describeReaderHangs({ port: () => port, slot0: SLOT0, dir: () => dir, processReader });
