/**
 * Recording a story at the box, with the real tools: arecord capturing from a virtual ALSA
 * microphone (test/fixtures/alsa-capture.ts), aplay playing the take back on ALSA's null device,
 * ffmpeg trimming and normalising it, and ffmpeg's ebur128 measuring the result. The terminal is a
 * pair of pipes, answered line by line as a student types. Every child process has a kill timer in
 * the code under test (arecord: its limit plus a grace; ffmpeg: 120 s).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PlaySoundPlayer } from '../../hardware/audio-player.ts';
import { MicrophoneError, startRecording } from '../../hardware/microphone.ts';
import { VirtualNfcReader } from '../../hardware/virtual-nfc-reader.ts';
import { wavDurationMs } from '../../hardware/wav-file.ts';
import { runBoxAssign } from '../../device/museum-assign.ts';
import { loadCollection } from '../../device/museum-collection.ts';
import { terminalPrompt, type Prompt } from '../../device/museum-prompt.ts';
import { museumSettings } from '../../device/museum-settings.ts';
import { measureLoudness, StoryAudioError } from '../../device/story-loudness.ts';
import { recordTake } from '../../device/story-recording.ts';
import { CAPTURE_PCM, FifoMicrophone, RATE, speechTake, virtualMicrophone } from '../fixtures/alsa-capture.ts';
import { captureLog } from '../fixtures/captured-log.ts';

const root = mkdtempSync(join(tmpdir(), 'hedgerow-record-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newFolder = () => join(root, `collection-${n++}`);
/** Each story runs four ffmpeg passes and the take plays back through aplay: give a loaded machine time. */
const SLOW = 90_000;

/**
 * A terminal made of two pipes. Each answer is typed once its question has been shown, as a person
 * would: readline drops lines that arrive while no question waits.
 */
function pipedTerminal(script: [question: string, answer: string][]) {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  let answeredUpTo = 0;
  output.on('data', (chunk: Buffer) => {
    shown += chunk.toString();
    const next = script[0];
    if (!next) return;
    const at = shown.indexOf(next[0], answeredUpTo);
    if (at < 0) return;
    answeredUpTo = at + next[0].length;
    script.shift();
    setImmediate(() => input.write(`${next[1]}\n`));
  });
  return { prompt: terminalPrompt(input, output), shown: () => shown, unanswered: script };
}

function tapOnAsk(reader: VirtualNfcReader, prompt: Prompt, uid: string): Prompt {
  return {
    ...prompt,
    say: (line) => {
      prompt.say(line);
      if (line.startsWith('Tap the tag')) setImmediate(() => reader.place({ uid }));
    },
  };
}

describe('hedgerow box assign: record the story at the box', () => {
  it('records from the microphone with a meter and a countdown, stops at the limit, plays back, records again, keeps; trimmed and at -16 LUFS', { timeout: SLOW }, async () => {
    const collection = newFolder();
    const source = join(root, 'skylark.raw');
    // 1 s of silence, 3.5 s of speech-like sound at about -40 LUFS, 1.5 s of silence: a 6 s take.
    speechTake(source, { before: 1, speech: 3.5, after: 1.5 });
    const env = virtualMicrophone(root, source);
    const { log } = captureLog();
    const reader = new VirtualNfcReader({ log });
    const terminal = pipedTerminal([
      ['Title of the object: ', 'Skylark'],
      ['Description (optional): ', 'Sings over the field'],
      ['or press Enter to type a message: ', 'r'],
      ['Language of the story [en]: ', ''],
      ['Press Enter to start recording (at most 6 s)', ''],
      ['Keep this take? [Y/n]', 'n'],
      ['Press Enter to start recording (at most 6 s)', ''],
      ['Keep this take? [Y/n]', 'y'],
    ]);
    const settings = museumSettings.parse({ record: { device: CAPTURE_PCM, maxDuration: '6s' } });
    const player = new PlaySoundPlayer({ log, device: 'null' });
    const result = await runBoxAssign({ settings, log, collection, prompt: tapOnAsk(reader, terminal.prompt, '04a0b0c0d0e0f0'), reader, player, recordEnv: env });

    expect(terminal.unanswered).toEqual([]);
    const shown = terminal.shown();
    expect(shown).toMatch(/\[▮+▯*\] +-\d+ dB {2}\d s left/);
    expect(shown.match(/Stopped at the 6 s limit\./g)).toHaveLength(2);
    expect(shown.match(/Recorded 6\.0 s\. Playing it back\.\.\./g)).toHaveLength(2);
    expect(result.story).toMatchObject({ audio: 'skylark.wav', original: 'skylark.original.wav' });
    expect(result.object).toEqual({ uid: '04a0b0c0d0e0f0', title: 'Skylark', description: 'Sings over the field', audio: 'skylark.wav' });

    const original = wavDurationMs(readFileSync(join(collection, 'skylark.original.wav')))!;
    const story = wavDurationMs(readFileSync(join(collection, 'skylark.wav')))!;
    expect(original).toBeCloseTo(6000, -1);
    // 2.5 s of silence trimmed, 0.1 s kept at each end.
    expect(story).toBeGreaterThan(3500);
    expect(story).toBeLessThan(4000);
    const loudness = await measureLoudness(join(collection, 'skylark.wav'));
    expect(Math.abs(loudness.integrated - -16)).toBeLessThanOrEqual(1);
    expect(loudness.truePeak).toBeLessThanOrEqual(-0.5);
    expect((await measureLoudness(join(collection, 'skylark.original.wav'))).integrated).toBeLessThan(-30);
    expect(readdirSync(collection).filter((name) => name.startsWith('.take'))).toEqual([]);
    expect((await loadCollection(collection)).byUid('04a0b0c0d0e0f0')!.audio).toBe('skylark.wav');
  });

  it('a take ends at Enter, keeping what the microphone gave until then (arecord, stuck in its read, is killed)', { timeout: SLOW }, async () => {
    const fifo = new FifoMicrophone(join(root, 'mic.fifo'));
    try {
      const env = virtualMicrophone(root, fifo.path);
      const second = speechTake(join(root, 'second.raw'), { before: 0, speech: 1, after: 0 }, -12);
      const terminal = pipedTerminal([
        ['Press Enter to start recording (at most 60 s)', ''],
        ['59 s left', ''],
        ['Keep this take? [Y/n]', ''],
      ]);
      let wrote = false;
      const prompt: Prompt = {
        ...terminal.prompt,
        say: (line) => {
          terminal.prompt.say(line);
          // The microphone hears one second once the take runs.
          if (line.startsWith('● Recording') && !wrote) setImmediate(() => fifo.write(second));
          wrote = true;
        },
      };
      const { log } = captureLog();
      const takeFile = join(root, 'held-take.wav');
      const settings = museumSettings.parse({ record: { device: CAPTURE_PCM } }).record;
      await recordTake({ prompt, settings, player: new PlaySoundPlayer({ log, device: 'null' }), takeFile, env });
      expect(terminal.unanswered).toEqual([]);
      expect(terminal.shown()).toContain('Stopped.');
      const durationMs = wavDurationMs(readFileSync(takeFile))!;
      expect(durationMs).toBeGreaterThanOrEqual(1000);
      // The file plugin reads in whole periods: a little more than was written, never the 60 s limit.
      expect(durationMs).toBeLessThan(2500);
    } finally {
      fifo.close();
    }
  });

  it('a silent take is refused with what to check, the recording kept and the manifest untouched', { timeout: SLOW }, async () => {
    const collection = newFolder();
    const source = join(root, 'silence.raw');
    writeFileSync(source, Buffer.alloc(RATE * 2 * 2));
    const env = virtualMicrophone(root, source);
    const { log } = captureLog();
    const reader = new VirtualNfcReader({ log });
    const terminal = pipedTerminal([
      ['Press Enter to start recording (at most 2 s)', ''],
      ['Keep this take? [Y/n]', 'y'],
    ]);
    const settings = museumSettings.parse({ record: { device: CAPTURE_PCM, maxDuration: '2s' } });
    const assigning = runBoxAssign({
      settings,
      log,
      collection,
      prompt: tapOnAsk(reader, terminal.prompt, '04a0b0c0d0e0f1'),
      reader,
      player: new PlaySoundPlayer({ log, device: 'null' }),
      title: 'Hush',
      record: true,
      language: 'en',
      recordEnv: env,
    });
    await expect(assigning).rejects.toThrow(StoryAudioError);
    await expect(assigning).rejects.toThrow(/is silent: check that the microphone is plugged in and not muted .* the original is kept as .*hush\.original\.wav/);
    expect(existsSync(join(collection, 'hush.original.wav'))).toBe(true);
    expect(existsSync(join(collection, 'hush.wav'))).toBe(false);
    expect(existsSync(join(collection, 'manifest.yaml'))).toBe(false);
  });
});

describe('hedgerow box assign --record from a script', () => {
  it('takes every answer piped in at once: Enter starts, the take runs to its limit (a line already typed does not stop it), Enter keeps it', { timeout: SLOW }, () => {
    const collection = newFolder();
    const source = join(root, 'wren.raw');
    speechTake(source, { before: 0.5, speech: 2, after: 0.5 }, -20);
    const env = virtualMicrophone(root, source);
    const config = join(root, 'record.json');
    writeFileSync(
      config,
      JSON.stringify({
        museum: { reader: { mode: 'virtual' }, audio: { mode: 'real', device: 'null', mixer: null }, record: { device: CAPTURE_PCM, maxDuration: '3s' } },
      }),
    );
    const cli = join(import.meta.dirname, '../../bin/hedgerow.js');
    const args = [cli, '--config', config, '--log-level', 'warn', 'box', 'assign', '--collection', collection, '--record', '--title', 'Wren', '--language', 'en'];
    // The kill timer: spawnSync SIGKILLs the command if it is still running after 60 s.
    const run = spawnSync(process.execPath, args, { input: '\n\n', encoding: 'utf8', env, timeout: 60_000, killSignal: 'SIGKILL' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Stopped at the 3 s limit.');
    expect(run.stdout).toMatch(/Tag [0-9a-f]+ → "Wren" \(wren\.wav\), saved in /);
    expect(wavDurationMs(readFileSync(join(collection, 'wren.original.wav')))).toBeCloseTo(3000, -1);
    const story = wavDurationMs(readFileSync(join(collection, 'wren.wav')))!;
    expect(story).toBeGreaterThan(2000);
    expect(story).toBeLessThan(2500);
  });

  it('says the input ended, and writes nothing, when the script runs out of answers', { timeout: SLOW }, () => {
    const collection = newFolder();
    const config = join(root, 'record-none.json');
    writeFileSync(config, JSON.stringify({ museum: { reader: { mode: 'virtual' }, audio: { mode: 'virtual' } } }));
    const cli = join(import.meta.dirname, '../../bin/hedgerow.js');
    const run = spawnSync(process.execPath, [cli, '--config', config, '--log-level', 'warn', 'box', 'assign', '--collection', collection, '--record', '--title', 'Wren'], {
      input: '',
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect(run.stderr).toBe('hedgerow: the input ended before an answer to "Press Enter to start recording (at most 60 s), then Enter again to stop:": run the command again and answer each question\n');
    expect(run.status).toBe(1);
    expect(existsSync(join(collection, 'manifest.yaml'))).toBe(false);
  });
});

describe('the microphone', () => {
  it('says how to install arecord when it is missing, and which device to set when the device is not there', async () => {
    const missing = startRecording({ device: 'default', sampleRate: RATE, command: 'no-arecord-here' }, { maxMs: 1000 });
    await expect(missing.done).rejects.toThrow(new MicrophoneError('no-arecord-here is not installed: sudo apt install alsa-utils'));
    const env = virtualMicrophone(root, '/dev/null');
    const wrong = startRecording({ device: 'plughw:7,0', sampleRate: RATE, env }, { maxMs: 1000 });
    await expect(wrong.done).rejects.toThrow(/nothing was recorded from "plughw:7,0" \(arecord: .*\): plug in the USB microphone, then set museum\.record\.device to one `arecord -l` lists/);
  });
});
