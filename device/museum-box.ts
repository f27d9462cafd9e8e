/**
 * The museum box: tap a tagged object, hear its story. One sound at a time: a new object stops the
 * one playing; the same object again within the re-tap window changes nothing (a tag held at the edge
 * of the field comes and goes several times a second). Nothing but a new object or the stop tag ends a
 * story: a volume tag moves the mixer while it plays, and an unknown tag's "hmm?" is skipped while a
 * story plays (the player plays one sound at a time, and a visitor's story matters more than a beep). Taking a tag off lets its sound finish, or
 * stops it if so configured. Each story becomes tap records (started, then finished or stopped with
 * its play time) in the outbox, bound for dt/museum/<boxId>/tap; each names the collection playing and its version.
 *
 * The path from a known tag to the player is synchronous on purpose: the UID is looked up before
 * anything else is read from the tag, and records are written after the player is spawned.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { AudioPlayer, PlayHandle, PlayOutcome } from '../hardware/audio-player.ts';
import { systemClock, type Clock } from '../hardware/core/clock.ts';
import type { NfcReader, TagInfo, TagRemoved } from '../hardware/nfc-reader.ts';
import { topics, type RecordSink, type TapRecord } from '../hardware/core/contract.ts';
import type { Extension } from '../hardware/core/extension.ts';
import { CollectionError, loadCollection, type AdminAction, type Collection } from './museum-collection.ts';
import { namedCollectionFolder, nextCollectionFolder } from './museum-collections-dir.ts';
import type { BoxSounds } from './museum-sounds.ts';
import { meaningOfNdef, meaningOfUid } from './museum-tag.ts';

export const DEFAULT_RETAP_WINDOW_MS = 3000;
const DEFAULT_VOLUME = 80;
const DEFAULT_VOLUME_STEP = 10;

export interface MuseumBoxEvents {
  play: [event: { uid: string; objectId: string; file: string }];
  ended: [event: { uid: string; objectId: string; outcome: 'finished' | 'stopped'; durationMs: number }];
  unknown: [event: { uid: string; reason: string }];
  admin: [event: { uid: string; action: AdminAction }];
  retap: [event: { uid: string }];
}

export interface MuseumBoxOptions {
  boxId: string;
  collection: Collection;
  /** Where next-collection and collection:<name> tags find other collections. */
  collectionsDir: string;
  reader: NfcReader;
  player: AudioPlayer;
  sink: RecordSink;
  sounds: BoxSounds;
  log: Logger;
  clock?: Clock;
  retapWindowMs?: number;
  onRemove?: 'finish' | 'stop';
  /** Volume at start, percent. */
  volume?: number;
  volumeStep?: number;
}

interface Playing {
  uid: string;
  objectId: string;
  /** Where the story came from: an admin tag may switch collections before it ends. */
  collection: Collection;
  handle: PlayHandle;
  startedAt: number;
  ended: boolean;
}

export class MuseumBox extends EventEmitter<MuseumBoxEvents> implements Extension {
  readonly name = 'museum';
  private collection: Collection;
  private current: Playing | null = null;
  private lastTap: { uid: string; at: number } | null = null;
  private tapSeq = 0;
  private running = false;
  private volume: number;
  /** The language a language:<code> admin tag chose; null: each collection's own. */
  private language: string | null = null;
  private readonly clock: Clock;

  constructor(private readonly options: MuseumBoxOptions) {
    super();
    this.collection = options.collection;
    this.clock = options.clock ?? systemClock;
    this.volume = options.volume ?? DEFAULT_VOLUME;
  }

  /** The collection the box plays from now (admin tags can switch it). */
  get activeCollection(): Collection {
    return this.collection;
  }

  /** The language a language:<code> tag chose, or null (each collection's own). */
  get activeLanguage(): string | null {
    return this.language;
  }

  /**
   * Reads the collection in `dir` again if it is the one playing (a followed collection's new version was
   * swapped in); true when it was. A story playing goes on from the file it opened and is recorded
   * against the old version; the next tap plays the new one. Unreadable: the box keeps the old one.
   */
  async reloadCollection(dir: string): Promise<boolean> {
    if (resolve(dir) !== resolve(this.collection.dir)) return false;
    const previous = this.collection;
    try {
      this.collection = await loadCollection(previous.dir);
    } catch (error) {
      const detail = error instanceof CollectionError ? error.message : String(error);
      this.options.log.error(`museum: cannot reload "${previous.title}" from ${previous.dir}, keeping version ${previous.version}: ${detail}`);
      return false;
    }
    this.options.log.info(`museum: collection "${this.collection.title}" reloaded: version ${previous.version} → ${this.collection.version}, ${this.collection.objects.length} objects`);
    return true;
  }

  async start(): Promise<void> {
    const { reader, log } = this.options;
    this.running = true;
    reader.on('tag', this.onTag);
    reader.on('removed', this.onRemoved);
    reader.on('attached', this.onAttached);
    await this.options.player.setVolume(this.volume);
    await reader.start();
    log.info(
      `museum box ${this.options.boxId}: collection "${this.collection.title}" (${this.collection.objects.length} objects) from ${this.collection.dir}`,
    );
  }

  async stop(): Promise<void> {
    const { reader, player } = this.options;
    this.running = false;
    reader.off('tag', this.onTag);
    reader.off('removed', this.onRemoved);
    reader.off('attached', this.onAttached);
    // Record the interrupted story now, while the outbox is still open.
    if (this.current) this.ended(this.current, 'stopped');
    player.stop();
    await reader.stop();
  }

  private readonly onTag = (tag: TagInfo): void => {
    this.handleTag(tag).catch((error: unknown) => this.options.log.error({ err: error }, `museum: tap of ${tag.uid} failed`));
  };

  private readonly onRemoved = (tag: TagRemoved): void => {
    if (this.options.onRemove === 'stop' && this.current?.uid === tag.uid) this.current.handle.stop();
  };

  private readonly onAttached = (): void => {
    this.options.reader.setLed(this.current ? 'playing' : 'ready');
  };

  private async handleTag(tag: TagInfo): Promise<void> {
    if (!this.running) return;
    const now = this.clock.now();
    const seq = ++this.tapSeq;
    const last = this.lastTap;
    this.lastTap = { uid: tag.uid, at: now };
    if (last && last.uid === tag.uid && now - last.at < (this.options.retapWindowMs ?? DEFAULT_RETAP_WINDOW_MS)) {
      this.options.log.debug(`museum: re-tap of ${tag.uid} ignored`);
      this.emit('retap', { uid: tag.uid });
      return;
    }
    let meaning = meaningOfUid(this.collection, tag.uid, this.language);
    if (!meaning) {
      const texts = await tag.ndefTexts();
      // Another tag came while the pages were read: it wins.
      if (seq !== this.tapSeq || !this.running) return;
      meaning = meaningOfNdef(this.collection, texts, this.language);
    }
    if (meaning.kind === 'object') {
      if (meaning.missingLanguage !== null) {
        this.options.log.info(
          `museum: "${meaning.title}" (object ${meaning.objectId}) has no story in "${meaning.missingLanguage}"; playing its "${meaning.language}" one ` +
            `(record one with \`hedgerow box assign --language ${meaning.missingLanguage}\`)`,
        );
      }
      this.playObject(tag.uid, meaning.objectId, meaning.title, meaning.audioFile);
    }
    else if (meaning.kind === 'admin') await this.admin(tag.uid, meaning.action);
    else this.unknown(tag, meaning.reason);
  }

  private playObject(uid: string, objectId: string, title: string, file: string): void {
    if (!existsSync(file)) {
      this.options.log.error(
        `museum: cannot play object ${objectId} (tag ${uid}): ${file} is missing; copy it into ${this.collection.dir} or assign the tag again with \`hedgerow box assign\``,
      );
      return;
    }
    const previous = this.current;
    const handle = this.options.player.play(file);
    const playing: Playing = { uid, objectId, collection: this.collection, handle, startedAt: this.clock.now(), ended: false };
    this.current = playing;
    if (previous) this.ended(previous, 'stopped');
    this.record(uid, objectId, 'started', null, playing.startedAt);
    this.options.reader.setLed('playing');
    this.options.log.info(`museum: tap ${uid} → "${title}" (${basename(file)})`);
    this.emit('play', { uid, objectId, file });
    void handle.finished.then((outcome) => this.ended(playing, outcome));
  }

  /**
   * A sound of the box's own (unknown tag, confirm), played only when no story is playing: the player
   * plays one sound at a time, so the beep would end the story. Returns false when skipped.
   */
  private playBoxSound(file: string): boolean {
    if (this.current) return false;
    this.options.player.play(file);
    return true;
  }

  /** A box sound that answers an admin tag (switching collections): it ends the story, as the new collection starts. */
  private playBoxSoundOverStory(file: string): void {
    const previous = this.current;
    this.current = null;
    this.options.player.play(file);
    if (previous) {
      this.ended(previous, 'stopped');
      this.options.reader.setLed('ready');
    }
  }

  private ended(playing: Playing, outcome: PlayOutcome): void {
    if (playing.ended) return;
    playing.ended = true;
    const durationMs = this.clock.now() - playing.startedAt;
    // A player failure is logged by the player with its fix; for the record it is a stop.
    const event = outcome === 'finished' ? 'finished' : 'stopped';
    this.record(playing.uid, playing.objectId, event, durationMs, this.clock.now(), playing.collection);
    if (this.current === playing) {
      this.current = null;
      this.options.reader.setLed('ready');
    }
    this.emit('ended', { uid: playing.uid, objectId: playing.objectId, outcome: event, durationMs });
  }

  private unknown(tag: TagInfo, reason: string): void {
    const why =
      tag.kind === 'iso14443-4'
        ? 'a phone or bank card (ISO 14443-4): its UID may change on every tap, so use NTAG213/215/216 stickers for objects'
        : `${reason}; assign it with \`hedgerow box assign\``;
    const skipped = !this.playBoxSound(this.options.sounds.unknown);
    this.options.log.info(`museum: unknown tag ${tag.uid}: ${why}${skipped ? ' (no "hmm?" sound: a story is playing)' : ''}`);
    this.record(tag.uid, null, 'unknown', null, this.clock.now());
    this.emit('unknown', { uid: tag.uid, reason });
  }

  private async admin(uid: string, action: AdminAction): Promise<void> {
    const { log, player } = this.options;
    this.emit('admin', { uid, action });
    if (action === 'stop') {
      if (this.current) this.current.handle.stop();
      return;
    }
    if (action === 'volume-up' || action === 'volume-down') {
      const step = (this.options.volumeStep ?? DEFAULT_VOLUME_STEP) * (action === 'volume-up' ? 1 : -1);
      this.volume = Math.max(0, Math.min(100, this.volume + step));
      // The mixer changes the story that is playing at once; the confirm sound only when none plays.
      await player.setVolume(this.volume);
      log.info(`museum: volume ${this.volume}%${this.playBoxSound(this.options.sounds.confirm) ? '' : ' (the story keeps playing)'}`);
      return;
    }
    if (action.startsWith('language:')) {
      this.language = action.slice('language:'.length);
      log.info(`museum: language "${this.language}" (objects without a story in it play in their collection's language)`);
      this.playBoxSound(this.options.sounds.confirm);
      return;
    }
    const folder =
      action === 'next-collection'
        ? await nextCollectionFolder(this.options.collectionsDir, this.collection.dir)
        : namedCollectionFolder(this.options.collectionsDir, action.slice('collection:'.length));
    if (!folder) {
      log.warn(`museum: admin tag ${uid} (${action}): no such collection in ${this.options.collectionsDir}`);
      this.playBoxSound(this.options.sounds.unknown);
      return;
    }
    try {
      this.collection = await loadCollection(folder);
      log.info(`museum: switched to collection "${this.collection.title}" (${this.collection.objects.length} objects) from ${folder}`);
      this.playBoxSoundOverStory(this.options.sounds.confirm);
    } catch (error) {
      const detail = error instanceof CollectionError ? error.message : String(error);
      log.error(`museum: admin tag ${uid} (${action}): cannot switch, keeping "${this.collection.title}": ${detail}`);
      this.playBoxSound(this.options.sounds.unknown);
    }
  }

  private record(uid: string, objectId: string | null, event: TapRecord['event'], durationMs: number | null, ts: number, collection = this.collection): void {
    const { boxId, sink, log } = this.options;
    const { name, version } = collection;
    const record: TapRecord = { ts, uid, object_id: objectId, event, play_duration_ms: durationMs, collection: name, collection_version: version };
    try {
      sink.append([{ deviceId: boxId, topic: topics.museumTap(boxId), record: { ...record } }]);
    } catch (error) {
      log.error({ err: error }, `museum: tap record not stored (${event} ${uid}); the box keeps playing`);
    }
  }
}
