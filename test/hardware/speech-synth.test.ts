import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { speakToWav, SpeechError } from '../../hardware/speech-synth.ts';
import { wavDurationMs } from '../../hardware/wav-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'hedgerow-speech-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('speakToWav (espeak-ng)', () => {
  it('speaks a message into a WAV file in the chosen language', async () => {
    const out = join(dir, 'fr.wav');
    await speakToWav('Bonjour les enfants, je suis une pièce romaine.', { language: 'fr', out });
    const duration = wavDurationMs(readFileSync(out));
    expect(duration).toBeGreaterThan(1000);
    expect(readdirSync(dir)).toEqual(['fr.wav']);
  });

  it('rejects a language espeak-ng has no voice for, and leaves no file behind', async () => {
    const out = join(dir, 'xx.wav');
    await expect(speakToWav('hello', { language: 'qq', out })).rejects.toThrow(/no voice "qq": pick one that `espeak-ng --voices` lists/);
    expect(readdirSync(dir)).not.toContain('xx.wav');
  });

  it('rejects something that is not a language code before running espeak-ng', async () => {
    await expect(speakToWav('hello', { language: '--help', out: join(dir, 'h.wav') })).rejects.toThrow(SpeechError);
    await expect(speakToWav('   ', { language: 'en', out: join(dir, 'e.wav') })).rejects.toThrow(/no text/);
  });

  it('says how to install espeak-ng when it is missing', async () => {
    await expect(speakToWav('hello', { language: 'en', out: join(dir, 'm.wav'), command: 'no-espeak-here' })).rejects.toThrow(
      /sudo apt install espeak-ng/,
    );
  });
});
