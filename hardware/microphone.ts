/**
 * The box's microphone: ALSA's arecord writing raw 16-bit mono PCM into a pipe. The take is built
 * here as it arrives, so its level can be shown while it records, and what was heard is kept even
 * when arecord has to be killed (a capture device that stops delivering blocks arecord in a read
 * that SIGINT does not end). This is the only module that runs arecord.
 */
import { spawn } from 'node:child_process';
import { encodePcm16Wav } from './wav-file.ts';

const BYTES_PER_SAMPLE = 2;
/** arecord gets this long to close cleanly on SIGINT before it is killed. */
const STOP_GRACE_MS = 500;
/** A take ends this long after its limit even when the device delivers late (or never). */
const LIMIT_GRACE_MS = 3000;

export class MicrophoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MicrophoneError';
  }
}

export interface MicrophoneOptions {
  /** ALSA capture device, e.g. "default" or "plughw:1,0". */
  device: string;
  sampleRate: number;
  /** The arecord binary. Default "arecord". */
  command?: string | undefined;
  /** Environment for arecord (tests point ALSA_CONFIG_PATH at a virtual capture device). */
  env?: NodeJS.ProcessEnv | undefined;
}

export interface Level {
  /** Loudest sample of the latest chunk, dBFS; -Infinity for digital silence. */
  peakDb: number;
  /** How much has been recorded, ms. */
  recordedMs: number;
}

export interface Take {
  /** The take as a 16-bit mono WAV file. */
  wav: Buffer;
  durationMs: number;
  /** key: stop() ended it; limit: it reached maxMs. */
  endedBy: 'key' | 'limit';
}

export interface Recording {
  /** Ends the take (a key press); what was recorded so far is kept. */
  stop(): void;
  /** The take; rejects with a MicrophoneError saying what to check when nothing could be recorded. */
  readonly done: Promise<Take>;
}

export function startRecording(options: MicrophoneOptions, take: { maxMs: number; onLevel?: (level: Level) => void }): Recording {
  const command = options.command ?? 'arecord';
  const maxBytes = Math.floor((take.maxMs / 1000) * options.sampleRate) * BYTES_PER_SAMPLE;
  const args = ['-q', '-D', options.device, '-f', 'S16_LE', '-c', '1', '-r', String(options.sampleRate), '-t', 'raw', '-d', String(Math.ceil(take.maxMs / 1000))];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  const chunks: Buffer[] = [];
  let bytes = 0;
  let errors = '';
  let endedBy: Take['endedBy'] | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const end = (reason: Take['endedBy']) => {
    if (endedBy !== null || closed) return;
    endedBy = reason;
    child.stdout.destroy();
    child.kill('SIGINT');
    killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  };
  const limitTimer = setTimeout(() => end('limit'), take.maxMs + LIMIT_GRACE_MS);

  child.stdout.on('data', (chunk: Buffer) => {
    if (endedBy !== null) return;
    const room = maxBytes - bytes;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    chunks.push(kept);
    bytes += kept.length;
    take.onLevel?.({ peakDb: peakDb(kept), recordedMs: (bytes / BYTES_PER_SAMPLE / options.sampleRate) * 1000 });
    if (bytes >= maxBytes) end('limit');
  });
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));

  const done = new Promise<Take>((resolve, reject) => {
    const finish = (code: number | string | null) => {
      closed = true;
      clearTimeout(limitTimer);
      clearTimeout(killTimer);
      const pcm = Buffer.concat(chunks);
      const durationMs = (Math.floor(pcm.length / BYTES_PER_SAMPLE) / options.sampleRate) * 1000;
      if (code === 'ENOENT') return reject(new MicrophoneError(`${command} is not installed: sudo apt install alsa-utils`));
      if (pcm.length < BYTES_PER_SAMPLE) {
        const detail = errors.trim().split('\n')[0] ?? '';
        return reject(
          new MicrophoneError(
            `nothing was recorded from "${options.device}"${detail ? ` (${command}: ${detail})` : ''}: plug in the USB microphone, ` +
              'then set museum.record.device to one `arecord -l` lists (e.g. plughw:1,0)',
          ),
        );
      }
      resolve({ wav: encodePcm16Wav(pcm, options.sampleRate), durationMs, endedBy: endedBy ?? 'limit' });
    };
    child.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? 'error'));
    child.once('close', (code) => finish(code));
  });
  return { stop: () => end('key'), done };
}

/** The loudest sample of a chunk of S16_LE PCM, dBFS. */
function peakDb(pcm: Buffer): number {
  let peak = 0;
  for (let at = 0; at + 1 < pcm.length; at += BYTES_PER_SAMPLE) peak = Math.max(peak, Math.abs(pcm.readInt16LE(at)));
  return peak === 0 ? -Infinity : 20 * Math.log10(peak / 32768);
}
