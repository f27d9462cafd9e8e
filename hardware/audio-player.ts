/**
 * The speaker behind one interface. The real player runs aplay (WAV) or mpg123 (MP3) through
 * play-sound; hardware/recording-audio-player.ts records what it would play, for unit tests and
 * `npm start`. This is the only module that imports play-sound.
 *
 * One sound at a time: a new sound kills the player process of the one before, so sounds never stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import type { Logger } from 'pino';
import createPlayer from 'play-sound';

export type PlayOutcome = 'finished' | 'stopped' | 'failed';

export interface PlayHandle {
  readonly file: string;
  /** Player process id, when one was started. */
  readonly pid: number | undefined;
  /** finished: played to the end; stopped: stop() or a newer sound ended it; failed: could not play (logged with the fix). */
  readonly finished: Promise<PlayOutcome>;
  stop(): void;
}

export interface AudioPlayer {
  /** Plays a file, stopping whatever was playing. Never throws: a file that cannot play resolves `failed`. */
  play(file: string): PlayHandle;
  /** Stops the current sound, if any. */
  stop(): void;
  /** Sets the output volume, 0-100. */
  setVolume(percent: number): Promise<void>;
}

export interface PlaySoundPlayerOptions {
  log: Logger;
  /** ALSA device; "null" plays silently (tests). Default "default". */
  device?: string | undefined;
  /** Command line per file extension, overriding the defaults built from `device` (aplay for wav, mpg123 for mp3). */
  players?: Readonly<Record<string, readonly string[]>> | undefined;
  /** ALSA simple mixer control that `setVolume` moves with amixer, e.g. "PCM" or "Master"; null: no volume control. Default "PCM". */
  mixer?: string | null | undefined;
  /** Called right after a player process is spawned (benchmarks time the tap-to-sound path with it). */
  onSpawn?: ((file: string, pid: number | undefined) => void) | undefined;
}

const AMIXER = 'amixer';
/**
 * How long a stopped player gets to exit on SIGTERM before SIGKILL. aplay catches SIGTERM to abort
 * the sound card cleanly, but a player stuck on a read (a file on a hung USB stick, a pipe) restarts
 * the read and never exits: one sound at a time must hold even then.
 */
const KILL_GRACE_MS = 200;
const PACKAGE_OF: Record<string, string> = { aplay: 'alsa-utils', mpg123: 'mpg123', play: 'sox', amixer: 'alsa-utils' };

/** The default command lines: aplay for WAV, mpg123 for MP3, both on one ALSA device. */
export function defaultPlayers(device = 'default'): Record<string, readonly string[]> {
  return {
    wav: ['aplay', '-q', '-D', device],
    mp3: ['mpg123', '-q', '-o', 'alsa', '-a', device],
  };
}

export class PlaySoundPlayer implements AudioPlayer {
  private current: { handle: PlayHandle; stop: () => void } | null = null;
  private readonly players: Readonly<Record<string, readonly string[]>>;

  constructor(private readonly options: PlaySoundPlayerOptions) {
    this.players = { ...defaultPlayers(options.device), ...options.players };
  }

  play(file: string): PlayHandle {
    this.stop();
    const log = this.options.log;
    const extension = extname(file).slice(1).toLowerCase();
    const commandLine = this.players[extension];
    if (!commandLine || commandLine.length === 0) {
      const known = Object.keys(this.players).join(', ');
      return failed(file, log, `no player for .${extension} files (known: ${known}): convert it to WAV or MP3, or add museum.audio.players.${extension}`);
    }
    if (!isFile(file)) return failed(file, log, `the file is missing: put it back in the collection folder, or assign the tag again with \`hedgerow box assign\``);

    const [command, ...args] = commandLine as [string, ...string[]];
    let stopRequested = false;
    let resolveOutcome!: (outcome: PlayOutcome) => void;
    const finished = new Promise<PlayOutcome>((resolve) => (resolveOutcome = resolve));
    const done = (code: unknown) => {
      if (this.current?.handle === handle) this.current = null;
      if (stopRequested) return resolveOutcome('stopped');
      if (code === null || code === undefined) return resolveOutcome('finished');
      // play-sound passes the exit code (a number, not an Error) when the player exits non-zero.
      log.error(playerFailure(command, file, code));
      resolveOutcome('failed');
    };
    let child: ChildProcess;
    try {
      child = createPlayer({ player: command as never }).play(file, { [command]: args }, done);
    } catch (error) {
      return failed(file, log, `could not start ${command}: ${(error as Error).message}`);
    }
    // Without a listener a missing player binary (ENOENT) would be an uncaught 'error' event.
    child.on('error', () => undefined);
    this.options.onSpawn?.(file, child.pid);
    const stop = () => {
      if (stopRequested || child.exitCode !== null || child.signalCode !== null) return;
      stopRequested = true;
      child.kill('SIGTERM');
      const escalate = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, KILL_GRACE_MS);
      escalate.unref();
      child.once('close', () => clearTimeout(escalate));
    };
    const handle: PlayHandle = { file, pid: child.pid, finished, stop };
    this.current = { handle, stop };
    return handle;
  }

  stop(): void {
    const current = this.current;
    this.current = null;
    current?.stop();
  }

  async setVolume(percent: number): Promise<void> {
    const mixer = this.options.mixer === undefined ? 'PCM' : this.options.mixer;
    const level = Math.round(Math.max(0, Math.min(100, percent)));
    if (mixer === null || this.options.device === 'null') {
      this.options.log.info(`volume ${level}% (no mixer configured, so the speaker level is unchanged)`);
      return;
    }
    const code = await run(AMIXER, ['-q', 'sset', mixer, `${level}%`]);
    if (code === 0) this.options.log.info(`volume ${level}%`);
    else
      this.options.log.warn(
        code === 'ENOENT'
          ? `volume not changed: amixer is not installed (sudo apt install alsa-utils)`
          : `volume not changed: amixer could not set "${mixer}" (exit ${code}); set museum.audio.mixer to a control \`amixer scontrols\` lists`,
      );
  }
}

function playerFailure(command: string, file: string, code: unknown): string {
  if (code === -2 || code === 'ENOENT') {
    const pkg = PACKAGE_OF[command];
    return `cannot play ${file}: the player "${command}" is not installed${pkg ? ` (sudo apt install ${pkg})` : ''}, or set museum.audio.players`;
  }
  return `${command} could not play ${file} (exit code ${String(code)}): check that it is a valid ${extname(file).slice(1).toUpperCase()} file (try \`${command} ${file}\`) and that the sound device exists (\`aplay -l\`)`;
}

function failed(file: string, log: Logger, reason: string): PlayHandle {
  log.error(`cannot play ${file}: ${reason}`);
  return { file, pid: undefined, finished: Promise.resolve('failed'), stop: () => undefined };
}

function isFile(path: string): boolean {
  try {
    const stat = statSync(path);
    // A FIFO counts: tests stream into one to hold a sound open for as long as they need.
    return stat.isFile() || stat.isFIFO();
  } catch {
    return false;
  }
}

function run(command: string, args: readonly string[]): Promise<number | string> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    child.on('close', (code) => resolve(code ?? -1));
  });
}
