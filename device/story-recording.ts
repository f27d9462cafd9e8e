/**
 * Recording a story at the box during `hedgerow box assign`: Enter starts a take, a level meter and a
 * countdown run while it records, Enter (or the time limit) stops it, the box's own player plays it
 * back, and the student keeps it or records again. Every question goes through the Prompt, so a
 * script or a test drives it through a pipe as a person does at the keyboard.
 */
import { rm, writeFile } from 'node:fs/promises';
import type { AudioPlayer } from '../hardware/audio-player.ts';
import { startRecording, type Level } from '../hardware/microphone.ts';
import type { Prompt } from './museum-prompt.ts';
import type { MuseumRecordSettings } from './museum-settings.ts';

const METER_BARS = 20;
/** The meter's scale: -60 dBFS (empty) to 0 dBFS (full). */
const METER_FLOOR_DB = -60;
/** How often a live terminal redraws the meter. */
const LIVE_REDRAW_MS = 100;
/** Below this peak the microphone probably hears nothing: the meter says so. */
const QUIET_DB = -50;

export interface RecordTakeOptions {
  prompt: Prompt;
  settings: MuseumRecordSettings;
  player: AudioPlayer;
  /** Where the take is kept while it is played back (it is overwritten by a new take). */
  takeFile: string;
  /** Environment for arecord (tests point ALSA_CONFIG_PATH at a virtual capture device). */
  env?: NodeJS.ProcessEnv | undefined;
}

/** Records until a take is kept; resolves with the take's file (`takeFile`), which the caller moves. */
export async function recordTake(options: RecordTakeOptions): Promise<string> {
  const { prompt, settings, player, takeFile } = options;
  const maxS = Math.round(settings.maxDuration / 1000);
  for (;;) {
    await prompt.ask(`Press Enter to start recording (at most ${maxS} s), then Enter again to stop: `);
    const durationMs = await oneTake(options);
    prompt.say(`Recorded ${(durationMs / 1000).toFixed(1)} s. Playing it back...`);
    const outcome = await player.play(takeFile).finished;
    if (outcome === 'failed') prompt.say('(the take could not be played back: see the log line above; it is still recorded)');
    const answer = (await prompt.ask('Keep this take? [Y/n] (n records it again): ')).toLowerCase();
    if (answer === 'n' || answer === 'no' || answer === 'r') {
      await rm(takeFile, { force: true });
      continue;
    }
    return takeFile;
  }
}

async function oneTake(options: RecordTakeOptions): Promise<number> {
  const { prompt, settings } = options;
  let lastDraw = 0;
  let lastSecondsLeft = -1;
  const onLevel = (level: Level) => {
    const secondsLeft = Math.max(0, Math.ceil((settings.maxDuration - level.recordedMs) / 1000));
    const now = Date.now();
    // A terminal redraws in place; a pipe or a log gets one line a second.
    if (prompt.live ? now - lastDraw < LIVE_REDRAW_MS : secondsLeft === lastSecondsLeft) return;
    lastDraw = now;
    lastSecondsLeft = secondsLeft;
    prompt.status(meterLine(level, secondsLeft));
  };
  const recording = startRecording({ device: settings.device, sampleRate: settings.sampleRate, env: options.env }, { maxMs: settings.maxDuration, onLevel });
  const stopKey = new AbortController();
  prompt.say('● Recording... press Enter to stop.');
  void prompt.ask('', { signal: stopKey.signal, fresh: true }).then(
    () => recording.stop(),
    () => undefined,
  );
  try {
    const take = await recording.done;
    prompt.status(take.endedBy === 'limit' ? `Stopped at the ${Math.round(settings.maxDuration / 1000)} s limit.` : 'Stopped.');
    await writeFile(options.takeFile, take.wav);
    return take.durationMs;
  } finally {
    stopKey.abort();
    recording.stop();
  }
}

/** "[▮▮▮▮▮▮▮▮▮▮▯▯▯▯▯▯▯▯▯▯]  -30 dB  42 s left". */
export function meterLine(level: Level, secondsLeft: number): string {
  const filled = Number.isFinite(level.peakDb) ? Math.round(((Math.max(METER_FLOOR_DB, level.peakDb) - METER_FLOOR_DB) / -METER_FLOOR_DB) * METER_BARS) : 0;
  const db = Number.isFinite(level.peakDb) ? `${Math.round(level.peakDb)} dB`.padStart(7) : '   -∞ dB';
  const hint = level.peakDb < QUIET_DB ? '  (quiet: speak closer to the microphone)' : '';
  return `[${'▮'.repeat(filled)}${'▯'.repeat(METER_BARS - filled)}] ${db}  ${secondsLeft} s left${hint}`;
}
