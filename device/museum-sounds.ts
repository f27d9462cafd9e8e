/**
 * The box's own short sounds, written once as WAV files so they play through the same player as
 * the stories: a soft falling two-note "hmm?" for a tag the box does not know, and a short rising
 * blip to confirm an admin tag (volume, collection).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWav, tones } from '../hardware/wav-file.ts';

const SAMPLE_RATE = 22_050;
const UNKNOWN_TONES = [
  { hz: 660, ms: 140 },
  { hz: 523, ms: 220 },
];
const CONFIRM_TONES = [
  { hz: 784, ms: 90 },
  { hz: 1047, ms: 120 },
];

export interface BoxSounds {
  unknown: string;
  confirm: string;
}

export async function ensureBoxSounds(dir: string): Promise<BoxSounds> {
  await mkdir(dir, { recursive: true });
  const sounds = { unknown: join(dir, 'unknown-tag.wav'), confirm: join(dir, 'confirm.wav') };
  if (!existsSync(sounds.unknown)) await writeFile(sounds.unknown, encodeWav(tones(UNKNOWN_TONES, SAMPLE_RATE), SAMPLE_RATE));
  if (!existsSync(sounds.confirm)) await writeFile(sounds.confirm, encodeWav(tones(CONFIRM_TONES, SAMPLE_RATE), SAMPLE_RATE));
  return sounds;
}
