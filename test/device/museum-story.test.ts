/**
 * Stories copied into a collection, with the real ffmpeg: trimmed, normalised (measured with
 * ebur128), the original kept byte for byte; and the errors that keep it when ffmpeg cannot help.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wavDurationMs } from '../../hardware/wav-file.ts';
import { addStory, importStory } from '../../device/museum-story.ts';
import { museumSettings } from '../../device/museum-settings.ts';
import { measureLoudness } from '../../device/story-loudness.ts';
import { sox } from '../fixtures/alsa-capture.ts';

const root = mkdtempSync(join(tmpdir(), 'hedgerow-story-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const goal = museumSettings.parse({}).story;
const SLOW = { timeout: 90_000 };

/** A quiet MP3 with half a second of silence at each end: sox makes it, ffmpeg's LAME encodes it. */
function quietMp3(path: string): void {
  const wav = `${path}.wav`;
  sox(['-n', '-r', '44100', '-c', '1', '-b', '16', wav, 'synth', '3', 'pinknoise', 'sinc', '200-3400', 'tremolo', '3', '60', 'gain', '-n', '-30', 'pad', '0.5', '0.5']);
  const run = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', wav, '-c:a', 'libmp3lame', '-b:a', '128k', path], { timeout: 30_000, killSignal: 'SIGKILL' });
  if (run.status !== 0) throw new Error(`ffmpeg could not encode ${path}: ${run.stderr.toString()}`);
}

describe('stories copied in', () => {
  it('an MP3 from outside becomes <name>.wav at the target loudness, trimmed, with the MP3 kept as <name>.original.mp3', SLOW, async () => {
    const folder = join(root, 'copied');
    mkdirSync(folder);
    const outside = join(root, 'fox.mp3');
    quietMp3(outside);
    const story = await importStory(folder, outside, { goal });
    expect(story).toMatchObject({ audio: 'fox.wav', original: 'fox.original.mp3' });
    expect(readFileSync(join(folder, 'fox.original.mp3')).equals(readFileSync(outside))).toBe(true);
    expect(Math.abs(story.loudness!.integrated - goal.loudness)).toBeLessThanOrEqual(1);
    expect((await measureLoudness(join(folder, 'fox.wav'))).integrated).toBe(story.loudness!.integrated);
    const ms = wavDurationMs(readFileSync(join(folder, 'fox.wav')))!;
    expect(ms).toBeGreaterThan(3000);
    expect(ms).toBeLessThan(3400);

    // Chosen again from inside the collection, the prepared file is used as it is.
    expect(await importStory(folder, join(folder, 'fox.wav'), { goal })).toEqual({ audio: 'fox.wav', original: 'fox.original.mp3', loudness: null });
  });

  it('a short story with high peaks (2 s, 16 dB from peak to loudness) is raised until its peaks reach the limit', SLOW, async () => {
    const folder = join(root, 'short');
    mkdirSync(folder);
    const write = async (to: string) => sox(['-n', '-r', '44100', '-c', '1', '-b', '16', to, 'synth', '2', 'pinknoise', 'sinc', '200-3400', 'tremolo', '4', '90', 'gain', '-n', '-24']);
    const story = await addStory(folder, 'wren', 'wav', write, { goal });
    // loudnorm alone left this at about -41 LUFS (its limiter needs 3 s); a plain gain to -16 would clip past -1 dBTP.
    expect(story.loudness!.integrated).toBeGreaterThan(-18.5);
    expect(story.loudness!.integrated).toBeLessThanOrEqual(goal.loudness + 1);
    expect(story.loudness!.truePeak).toBeLessThanOrEqual(goal.truePeak + 0.5);
  });

  it('keeps the original and says what to do when ffmpeg is missing or cannot read the file', SLOW, async () => {
    const folder = join(root, 'broken');
    mkdirSync(folder);
    const garbled = join(root, 'garbled.wav');
    writeFileSync(garbled, 'RIFF but not really a wave file');
    await expect(importStory(folder, garbled, { goal })).rejects.toThrow(
      /^ffmpeg cannot read .*garbled\.original\.wav \(.*\): give a WAV or MP3 file that plays .* — the original is kept as .*garbled\.original\.wav$/,
    );
    expect(readFileSync(join(folder, 'garbled.original.wav'), 'utf8')).toBe('RIFF but not really a wave file');

    const write = async (to: string) => writeFileSync(to, readFileSync(garbled));
    await expect(addStory(folder, 'owl', 'wav', write, { goal, tool: { command: 'no-ffmpeg-here' } })).rejects.toThrow(
      /^no-ffmpeg-here is not installed: sudo apt install ffmpeg .* the original is kept as .*owl\.original\.wav$/,
    );
    expect(readFileSync(join(folder, 'owl.original.wav'), 'utf8')).toBe('RIFF but not really a wave file');
  });
});
