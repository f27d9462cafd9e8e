/**
 * Builds a museum box from its settings: the collection (the demo one on first start), the reader
 * and the speaker (real or virtual, chosen by setting or by whether pcscd answers), and the box's own
 * sounds. The CLI and the Pi runtime call these; nothing here starts anything.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { PlaySoundPlayer, type AudioPlayer } from '../hardware/audio-player.ts';
import type { Clock } from '../hardware/core/clock.ts';
import { pcscdAnswers, pcscdSocketPath } from '../hardware/nfc-diagnostics.ts';
import { ProcessNfcReader } from '../hardware/nfc-process-reader.ts';
import type { NfcReader } from '../hardware/nfc-types.ts';
import { RecordingAudioPlayer } from '../hardware/recording-audio-player.ts';
import { VirtualNfcReader, type VirtualTagSpec } from '../hardware/virtual-nfc-reader.ts';
import type { RecordSink } from '../hardware/core/contract.ts';
import { MuseumBox } from './museum-box.ts';
import { repairInterruptedImports } from './museum-bundle-import.ts';
import { loadCollection, type Collection } from './museum-collection.ts';
import { collectionsDirOf } from './museum-collections-dir.ts';
import { DEMO_EXTRA_TAGS, DEMO_TAGS, ensureDemoCollection } from './museum-demo.ts';
import type { MuseumSettings } from './museum-settings.ts';
import { ensureBoxSounds } from './museum-sounds.ts';

export interface MuseumContext {
  log: Logger;
  /** The outbox. */
  sink: RecordSink;
  /** Folder for files the box makes itself (its tones). */
  dataDir: string;
  clock?: Clock;
}

/** Chooses and builds the reader: real, virtual, or (auto) real when pcscd answers. */
export async function createNfcReader(settings: MuseumSettings, log: Logger, virtualTags: readonly VirtualTagSpec[] = DEMO_TAGS): Promise<NfcReader> {
  const reader = settings.reader;
  let real = reader.mode === 'real';
  if (reader.mode === 'auto') {
    real = await pcscdAnswers(pcscdSocketPath());
    if (!real) log.info('museum: pcscd is not running, so the box uses a virtual NFC reader (set museum.reader.mode: real to wait for a real one)');
  }
  if (real) return new ProcessNfcReader({ log, readerName: reader.name, buzzer: reader.buzzer, led: reader.led, commandDeadlineMs: reader.commandDeadline });
  return new VirtualNfcReader({ log, tags: virtualTags, tapEveryMs: reader.virtualTapEvery, holdMs: reader.virtualHold });
}

/** Chooses and builds the speaker: real (play-sound), virtual (records, silent), or (auto) as real as the reader. */
export function createAudioPlayer(settings: MuseumSettings, log: Logger, readerIsReal: boolean, clock?: Clock): AudioPlayer {
  const audio = settings.audio;
  const real = audio.mode === 'real' || (audio.mode === 'auto' && readerIsReal);
  if (real) return new PlaySoundPlayer({ log, device: audio.device, players: audio.players, mixer: audio.mixer });
  return new RecordingAudioPlayer({ log, ...(clock ? { clock } : {}) });
}

/** Opens the configured collection, creating the demo one first when the folder has none and `demo` is on. */
export async function openCollection(settings: MuseumSettings, log: Logger): Promise<Collection> {
  if (settings.demo) await ensureDemoCollection(settings.collection, log);
  return loadCollection(settings.collection);
}

export async function createMuseumBox(settings: MuseumSettings, context: MuseumContext): Promise<MuseumBox> {
  const { log } = context;
  // A followed collection caught half-way through its swap by a power cut is put back whole before it is read.
  await repairInterruptedImports(collectionsDirOf(settings));
  const collection = await openCollection(settings, log);
  const reader = await createNfcReader(settings, log, virtualTagsFor(collection));
  const player = createAudioPlayer(settings, log, reader instanceof ProcessNfcReader, context.clock);
  const sounds = await ensureBoxSounds(join(context.dataDir, 'museum-sounds'));
  return new MuseumBox({
    boxId: settings.boxId,
    collection,
    collectionsDir: collectionsDirOf(settings),
    reader,
    player,
    sink: context.sink,
    sounds,
    log,
    retapWindowMs: settings.retapWindow,
    onRemove: settings.onRemove,
    volume: settings.audio.volume,
    volumeStep: settings.audio.volumeStep,
    ...(context.clock ? { clock: context.clock } : {}),
  });
}

/** The virtual reader taps the collection's own tags, plus the demo's NDEF-only and unassigned tags. */
function virtualTagsFor(collection: Collection): VirtualTagSpec[] {
  const own = collection.objects.filter((o) => o.uid !== undefined).map((o) => ({ uid: o.uid! }));
  return [...own, ...DEMO_EXTRA_TAGS];
}
