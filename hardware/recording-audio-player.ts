/**
 * A speaker that records what it would play: the embedded default for `npm start` (a demo box on a
 * laptop stays quiet) and the fake for unit tests. A WAV file "plays" for as long as its header
 * says, on the injected clock, so a test moves time instead of sleeping.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AudioPlayer, PlayHandle, PlayOutcome } from './audio-player.ts';
import { systemClock, type Clock } from './core/clock.ts';
import { wavDurationMs } from './wav-file.ts';

/** Enough of a WAV file to find its data chunk behind the usual LIST/INFO chunks. */
const HEADER_BYTES = 4096;
const FALLBACK_DURATION_MS = 2000;

export interface PlayedSound {
  file: string;
  /** Clock time when play() was called. */
  at: number;
  /** Set once the sound ended. */
  outcome: PlayOutcome | null;
}

export interface RecordingAudioPlayerOptions {
  clock?: Clock;
  log?: Logger;
  /** How long a file plays. Default: the WAV header's duration, else 2 s; a missing file fails. */
  durationMs?: (file: string) => number | null;
}

export class RecordingAudioPlayer implements AudioPlayer {
  readonly played: PlayedSound[] = [];
  volume = 100;
  private current: { handle: PlayHandle; end: (outcome: PlayOutcome) => void } | null = null;
  private readonly clock: Clock;

  constructor(private readonly options: RecordingAudioPlayerOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /** The files played so far, oldest first. */
  get files(): string[] {
    return this.played.map((sound) => sound.file);
  }

  /** The sound playing now, if any. */
  get playing(): string | null {
    return this.current?.handle.file ?? null;
  }

  play(file: string): PlayHandle {
    this.stop();
    const sound: PlayedSound = { file, at: this.clock.now(), outcome: null };
    this.played.push(sound);
    const duration = (this.options.durationMs ?? fileDurationMs)(file);
    let end!: (outcome: PlayOutcome) => void;
    const finished = new Promise<PlayOutcome>((resolve) => {
      end = (outcome) => {
        if (sound.outcome !== null) return;
        sound.outcome = outcome;
        if (this.current?.handle === handle) this.current = null;
        resolve(outcome);
      };
    });
    const handle: PlayHandle = { file, pid: undefined, finished, stop: () => end('stopped') };
    if (duration === null) {
      this.options.log?.error(`cannot play ${file}: the file is missing or unreadable`);
      end('failed');
      return handle;
    }
    this.current = { handle, end };
    void this.clock.sleep(duration).then(() => end('finished'));
    return handle;
  }

  stop(): void {
    this.current?.end('stopped');
  }

  async setVolume(percent: number): Promise<void> {
    this.volume = Math.round(Math.max(0, Math.min(100, percent)));
  }
}

function fileDurationMs(file: string): number | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    const read = readSync(fd, head, 0, HEADER_BYTES, 0);
    return wavDurationMs(head.subarray(0, read)) ?? FALLBACK_DURATION_MS;
  } finally {
    closeSync(fd);
  }
}
