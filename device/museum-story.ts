/**
 * How a story file enters a collection. Every story, recorded on the box, spoken from typed text or
 * copied in, is kept as it came as `<name>.original.<ext>` and played as `<name>.wav`: trimmed and
 * normalised by story-loudness.ts. The original is written first, so a failure (no ffmpeg, a silent
 * take, a file ffmpeg cannot read) loses nothing, and the error says where the original is.
 */
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename, extname, join, relative, resolve } from 'node:path';
import { insideFolder } from './museum-collection.ts';
import { normaliseStory, StoryAudioError, type Loudness, type LoudnessTarget, type ToolOptions } from './story-loudness.ts';

export const ORIGINAL_MARK = '.original';

export interface StoryFile {
  /** The file the box plays, relative to the collection folder. */
  audio: string;
  /** The original, relative to the collection folder. */
  original: string;
  /** The loudness applied; null for a story too short to measure (only trimmed). */
  loudness: Loudness | null;
}

export interface StoryPreparation {
  goal: LoudnessTarget;
  tool?: ToolOptions | undefined;
}

/** A new story written by `write` (a recorded take, espeak-ng) as the original under a free name from `stem`. */
export async function addStory(
  folder: string,
  stem: string,
  extension: string,
  write: (originalPath: string) => Promise<void>,
  preparation: StoryPreparation,
): Promise<StoryFile> {
  const free = freeStem(folder, stem, extension);
  const original = `${free}${ORIGINAL_MARK}.${extension}`;
  await write(join(folder, original));
  return await prepare(folder, original, `${free}.wav`, preparation);
}

/**
 * A story from an audio file. One outside the collection is copied in; one inside stays where it is
 * (other objects may name it), with its copy as the original. A file that already has its original
 * beside it was prepared before and is used as it is.
 */
export async function importStory(folder: string, file: string, preparation: StoryPreparation): Promise<StoryFile> {
  const source = resolve(file);
  const extension = extname(source).slice(1).toLowerCase();
  const stem = basename(source).slice(0, basename(source).length - extension.length - 1);
  const inside = insideFolder(folder, relative(folder, source)) !== null;
  if (!inside) return await addStory(folder, stem.replace(new RegExp(`\\${ORIGINAL_MARK}$`), ''), extension, (to) => copyFile(source, to), preparation);
  const here = relative(folder, source);
  const dir = here.slice(0, here.length - basename(here).length);
  const existing = [`${stem}${ORIGINAL_MARK}.wav`, `${stem}${ORIGINAL_MARK}.mp3`].map((name) => `${dir}${name}`).find((name) => existsSync(join(folder, name)));
  if (existing) return { audio: here, original: existing, loudness: null };
  // An original chosen again: its story is prepared from it anew.
  if (stem.endsWith(ORIGINAL_MARK)) return await prepare(folder, here, `${dir}${stem.slice(0, -ORIGINAL_MARK.length)}.wav`, preparation);
  const original = `${dir}${stem}${ORIGINAL_MARK}.${extension}`;
  await copyFile(source, join(folder, original));
  const target = extension === 'wav' ? here : `${dir}${freeStem(join(folder, dir), stem, 'wav')}.wav`;
  return await prepare(folder, original, target, preparation);
}

async function prepare(folder: string, original: string, audio: string, preparation: StoryPreparation): Promise<StoryFile> {
  try {
    const loudness = await normaliseStory(join(folder, original), join(folder, audio), preparation.goal, preparation.tool);
    return { audio, original, loudness };
  } catch (error) {
    if (error instanceof StoryAudioError) throw new StoryAudioError(`${error.message} — the original is kept as ${join(folder, original)}`);
    throw error;
  }
}

/** `stem`, or stem-2, stem-3... so that neither the story nor its original overwrites a file. */
function freeStem(folder: string, stem: string, extension: string): string {
  const taken = (candidate: string) => existsSync(join(folder, `${candidate}.wav`)) || existsSync(join(folder, `${candidate}${ORIGINAL_MARK}.${extension}`));
  let candidate = stem;
  for (let n = 2; taken(candidate); n++) candidate = `${stem}-${n}`;
  return candidate;
}
