/**
 * Every story plays equally loud: ffmpeg trims leading and trailing silence (`silenceremove`, run
 * forwards and then on the reversed sound, so pauses inside the story stay) and normalises it to
 * one EBU R128 loudness with two-pass `loudnorm`: the first pass measures, the second applies the
 * measured values (linear gain when the true-peak limit allows it, else loudnorm's limiter).
 * `ebur128` measures the result. Four short ffmpeg runs: trim, measure, apply, check. Nothing here touches the source file; the output appears
 * complete or not at all.
 */
import { spawn } from 'node:child_process';
import { open, rename, rm } from 'node:fs/promises';
import { z } from 'zod';
import { wavDurationMs } from '../hardware/wav-file.ts';

/** Silence kept at each end, s, so a first word does not start with a click. */
const KEEP_SILENCE_S = 0.1;
/** Loudness range loudnorm may keep; wide, so speech keeps its own dynamics and linear gain is the rule. */
const LOUDNESS_RANGE_LU = 20;
const OUTPUT_RATE = 44_100;
const WAV_OUT = ['-ar', String(OUTPUT_RATE), '-c:a', 'pcm_s16le', '-f', 'wav'];
/** Enough of a WAV file to find its data chunk's size. */
const WAV_HEAD_BYTES = 4096;
/** loudnorm's limiter works in 3 s windows. */
const LIMITER_MIN_MS = 3000;
/** A 60 s story takes about a second on a Pi 4; this is for a hung ffmpeg, not a slow one. */
const DEFAULT_TIMEOUT_MS = 120_000;

export class StoryAudioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoryAudioError';
  }
}

export interface LoudnessTarget {
  /** Integrated loudness, LUFS. */
  loudness: number;
  /** True-peak limit, dBTP. */
  truePeak: number;
  /** dBFS under which the ends count as silence. */
  silenceThreshold: number;
}

export interface ToolOptions {
  /** The ffmpeg binary. Default "ffmpeg". */
  command?: string | undefined;
  timeoutMs?: number | undefined;
}

export interface Loudness {
  /** Integrated loudness, LUFS. */
  integrated: number;
  /** True peak, dBTP. */
  truePeak: number;
}

/** loudnorm's first-pass report (print_format=json); "-inf" where there was nothing to measure. */
const loudnormReport = z.object({
  input_i: z.string(),
  input_tp: z.string(),
  input_lra: z.string(),
  input_thresh: z.string(),
  target_offset: z.string(),
});

/**
 * Writes `source` trimmed and normalised to `target` (16-bit WAV). Returns the loudness measured on
 * the result, or null for a story too short to measure (under 0.4 s: EBU R128 gates in 400 ms
 * blocks), which is only trimmed.
 */
export async function normaliseStory(source: string, target: string, goal: LoudnessTarget, tool: ToolOptions = {}): Promise<Loudness | null> {
  const trimmed = `${target}.trimmed-${process.pid}.wav`;
  const partial = `${target}.partial-${process.pid}.wav`;
  try {
    await ffmpeg(['-i', source, '-af', trimFilter(goal.silenceThreshold), ...WAV_OUT, '-y', trimmed], source, tool);
    const durationMs = wavDurationMs(await readHead(trimmed)) ?? 0;
    if (durationMs === 0) {
      throw new StoryAudioError(`${source} is silent: check that the microphone is plugged in and not muted (\`alsamixer\`), then record it again`);
    }
    const measured = lastJson(await ffmpeg(['-i', trimmed, '-af', `loudnorm=${loudnormTarget(goal.loudness, goal.truePeak)}:print_format=json`, '-f', 'null', '-'], source, tool));
    if (measured === null) throw new StoryAudioError(`ffmpeg measured nothing in ${source}: check that it plays (\`aplay ${source}\`)`);
    if (measured.input_i === '-inf' || measured.input_tp === '-inf') {
      await rename(trimmed, target);
      return null;
    }
    const loudness = reachableLoudness(goal, Number(measured.input_i), Number(measured.input_tp), durationMs);
    const filter =
      `loudnorm=${loudnormTarget(loudness, goal.truePeak)}:measured_I=${measured.input_i}:measured_TP=${measured.input_tp}` +
      `:measured_LRA=${measured.input_lra}:measured_thresh=${measured.input_thresh}:offset=${measured.target_offset}:linear=true:print_format=none`;
    await ffmpeg(['-i', trimmed, '-af', filter, ...WAV_OUT, '-y', partial], source, tool);
    await rename(partial, target);
  } finally {
    await rm(trimmed, { force: true });
    await rm(partial, { force: true });
  }
  return await measureLoudness(target, tool);
}

/**
 * The loudness to ask loudnorm for. Its second pass is a plain gain when the peaks allow it, else its
 * limiter; that limiter needs 3 s of sound, and on a shorter story ffmpeg 5.1 keeps the gain instead
 * of reaching the target (measured here: -41 LUFS for -16 asked). So a short story whose peaks would
 * pass the limit is raised only until they reach it.
 */
function reachableLoudness(goal: LoudnessTarget, integrated: number, truePeak: number, durationMs: number): number {
  const peakAfterGain = truePeak + (goal.loudness - integrated);
  if (peakAfterGain <= goal.truePeak || durationMs >= LIMITER_MIN_MS) return goal.loudness;
  // A tenth below, so the rounded measurements never put the peak a hair over the limit (then loudnorm would refuse the plain gain).
  return Math.floor((integrated + goal.truePeak - truePeak) * 10) / 10 - 0.1;
}

function loudnormTarget(loudness: number, truePeak: number): string {
  return `I=${loudness}:TP=${truePeak}:LRA=${LOUDNESS_RANGE_LU}`;
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(WAV_HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, WAV_HEAD_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The file's integrated loudness and true peak, measured with ffmpeg's ebur128 filter. */
export async function measureLoudness(file: string, tool: ToolOptions = {}): Promise<Loudness> {
  const output = await ffmpeg(['-i', file, '-af', 'ebur128=peak=true:framelog=verbose', '-f', 'null', '-'], file, tool);
  // The summary comes last: "I:  -16.0 LUFS" ... "Peak:  -1.2 dBFS".
  const summary = output.slice(output.lastIndexOf('Summary:'));
  const integrated = /I:\s+(-?[\d.]+|-inf) LUFS/.exec(summary)?.[1];
  const truePeak = /Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary)?.[1];
  if (integrated === undefined || truePeak === undefined) throw new StoryAudioError(`ffmpeg's ebur128 gave no summary for ${file}`);
  return { integrated: Number.parseFloat(integrated), truePeak: Number.parseFloat(truePeak) };
}

function trimFilter(thresholdDb: number): string {
  // Peak detection: with the default RMS window, ffmpeg 5.1 trims a reversed story under 0.3 s to nothing.
  const once = `silenceremove=start_periods=1:start_threshold=${thresholdDb}dB:start_silence=${KEEP_SILENCE_S}:detection=peak`;
  return `${once},areverse,${once},areverse`;
}

function lastJson(stderr: string): z.output<typeof loudnormReport> | null {
  const start = stderr.lastIndexOf('{');
  const end = stderr.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  try {
    const parsed = loudnormReport.safeParse(JSON.parse(stderr.slice(start, end + 1)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Runs ffmpeg and resolves its stderr (where the filters report); a kill timer ends a hung one. */
function ffmpeg(args: readonly string[], file: string, tool: ToolOptions): Promise<string> {
  const command = tool.command ?? 'ffmpeg';
  const timeoutMs = tool.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(command, ['-hide_banner', '-nostdin', '-nostats', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new StoryAudioError(
          error.code === 'ENOENT' ? `${command} is not installed: sudo apt install ffmpeg (the story was kept as it was)` : `could not start ${command}: ${error.message}`,
        ),
      );
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return reject(new StoryAudioError(`ffmpeg did not finish ${file} within ${Math.round(timeoutMs / 1000)} s; try again, or convert it by hand`));
      if (code === 0) return resolve(stderr);
      const reason = stderr.trim().split('\n').at(-1) ?? '';
      reject(new StoryAudioError(`ffmpeg cannot read ${file} (${reason}): give a WAV or MP3 file that plays (\`aplay ${file}\` or \`mpg123 ${file}\`)`));
    });
  });
}
