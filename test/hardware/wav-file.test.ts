import { describe, expect, it } from 'vitest';
import { encodeWav, tones, wavDurationMs } from '../../hardware/wav-file.ts';

describe('WAV files', () => {
  it('writes a 16-bit mono PCM file whose header gives its play time', () => {
    const wav = encodeWav(tones([{ hz: 440, ms: 250 }, { hz: 660, ms: 250 }], 8000), 8000);
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.length).toBe(44 + 8000 * 2 * 0.5);
    expect(wavDurationMs(wav)).toBe(500);
  });

  it('keeps samples within range and fades in, so tones do not click', () => {
    const samples = tones([{ hz: 1000, ms: 100 }], 8000, 2);
    expect(samples[0]).toBe(0);
    const wav = encodeWav(samples, 8000);
    let peak = 0;
    for (let i = 44; i < wav.length; i += 2) peak = Math.max(peak, Math.abs(wav.readInt16LE(i)));
    expect(peak).toBe(32767);
  });

  it('finds the data chunk behind a LIST chunk, as espeak-ng and editors write', () => {
    const plain = encodeWav(new Float32Array(16_000), 16_000);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([6, 0, 0, 0]), Buffer.from('INFOab')]);
    const withList = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
    expect(wavDurationMs(withList)).toBe(1000);
  });

  it('returns null for bytes that are not a WAV header', () => {
    expect(wavDurationMs(Buffer.from('ID3\x04 an mp3'))).toBeNull();
    expect(wavDurationMs(Buffer.alloc(0))).toBeNull();
  });
});
