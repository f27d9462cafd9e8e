/**
 * Just enough of the RIFF WAVE format for the museum box: writing the short tones it plays itself
 * (unknown tag, volume change) and reading how long a file plays, so the virtual speaker can finish
 * a sound when a real one would.
 */

const RIFF = 'RIFF';
const WAVE = 'WAVE';
const FMT = 'fmt ';
const DATA = 'data';
const PCM_FORMAT = 1;
const HEADER_BYTES = 44;
const BITS_PER_SAMPLE = 16;

/** 16-bit mono PCM samples in -1..1, as a WAV file. */
export function encodeWav(samples: Float32Array, sampleRate: number): Buffer {
  const pcm = Buffer.alloc(samples.length * (BITS_PER_SAMPLE / 8));
  for (let i = 0; i < samples.length; i++) {
    const clamped = Math.max(-1, Math.min(1, samples[i]!));
    pcm.writeInt16LE(Math.round(clamped * 32767), i * (BITS_PER_SAMPLE / 8));
  }
  return encodePcm16Wav(pcm, sampleRate);
}

/** Interleaved signed 16-bit little-endian PCM (what `arecord -f S16_LE -t raw` writes), as a WAV file. */
export function encodePcm16Wav(pcm: Buffer, sampleRate: number, channels = 1): Buffer {
  const blockAlign = channels * (BITS_PER_SAMPLE / 8);
  const dataBytes = pcm.length - (pcm.length % blockAlign);
  const out = Buffer.alloc(HEADER_BYTES + dataBytes);
  out.write(RIFF, 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write(WAVE, 8, 'ascii');
  out.write(FMT, 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(PCM_FORMAT, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * blockAlign, 28);
  out.writeUInt16LE(blockAlign, 32);
  out.writeUInt16LE(BITS_PER_SAMPLE, 34);
  out.write(DATA, 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  pcm.copy(out, HEADER_BYTES, 0, dataBytes);
  return out;
}

/** Tones one after another, each with a short fade so they do not click. */
export function tones(notes: readonly { hz: number; ms: number }[], sampleRate = 22_050, level = 0.4): Float32Array {
  const total = notes.reduce((sum, note) => sum + Math.round((note.ms / 1000) * sampleRate), 0);
  const samples = new Float32Array(total);
  const fade = Math.round(0.01 * sampleRate);
  let at = 0;
  for (const note of notes) {
    const length = Math.round((note.ms / 1000) * sampleRate);
    for (let i = 0; i < length; i++) {
      const envelope = Math.min(1, i / fade, (length - i) / fade);
      samples[at + i] = level * envelope * Math.sin((2 * Math.PI * note.hz * i) / sampleRate);
    }
    at += length;
  }
  return samples;
}

/**
 * Play time in milliseconds from the start of a WAV file (its first few kilobytes are enough), or
 * null when the bytes are not a WAV header.
 */
export function wavDurationMs(head: Buffer): number | null {
  if (head.length < 12 || head.toString('ascii', 0, 4) !== RIFF || head.toString('ascii', 8, 12) !== WAVE) return null;
  let byteRate: number | null = null;
  let at = 12;
  while (at + 8 <= head.length) {
    const id = head.toString('ascii', at, at + 4);
    const size = head.readUInt32LE(at + 4);
    if (id === FMT && at + 20 <= head.length) byteRate = head.readUInt32LE(at + 16);
    if (id === DATA) return byteRate ? (size / byteRate) * 1000 : null;
    at += 8 + size + (size % 2);
  }
  return null;
}
