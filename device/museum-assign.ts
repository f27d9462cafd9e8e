/**
 * `hedgerow box assign`: "tap the tag you want to assign", then record the story at the box, pick an
 * audio file, or type a message that espeak-ng speaks. Every story is trimmed and normalised to one
 * loudness, its original kept beside it (museum-story.ts). A story in another language than the
 * object's joins its translations. The manifest is re-read just before it is written and replaced
 * atomically, so a power cut mid-save leaves the old manifest whole. Answers given as options are not
 * asked, so the command also works from a script.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { AudioPlayer } from '../hardware/audio-player.ts';
import type { NfcReader, TagInfo } from '../hardware/nfc-reader.ts';
import { ProcessNfcReader } from '../hardware/nfc-process-reader.ts';
import { speakToWav } from '../hardware/speech-synth.ts';
import { VirtualNfcReader } from '../hardware/virtual-nfc-reader.ts';
import { AUDIO_EXTENSIONS, LANGUAGE_CODE, loadCollection, mainLanguage, manifestSchema, saveManifest, type Manifest, type ManifestObject } from './museum-collection.ts';
import { DEMO_TAGS } from './museum-demo.ts';
import { terminalPrompt, type Prompt } from './museum-prompt.ts';
import type { MuseumSettings } from './museum-settings.ts';
import { createAudioPlayer } from './museum-setup.ts';
import { addStory, importStory, type StoryFile, type StoryPreparation } from './museum-story.ts';
import { recordTake } from './story-recording.ts';

export type { Prompt } from './museum-prompt.ts';

const DEFAULT_TAP_TIMEOUT_MS = 120_000;
const VIRTUAL_TAP_MS = 1000;
/** The answer to the sound question that records the story at the box. */
const RECORD_ANSWER = 'r';

export class AssignError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssignError';
  }
}

export interface BoxAssignOptions {
  settings: MuseumSettings;
  log: Logger;
  /** Collection folder; default settings.collection. Created when missing. */
  collection?: string | undefined;
  prompt?: Prompt | undefined;
  /** Default: the real reader (a virtual one that taps a demo tag when settings.reader.mode is virtual). */
  reader?: NfcReader | undefined;
  /** Plays a recorded take back; default the box's player from settings.audio. */
  player?: AudioPlayer | undefined;
  title?: string | undefined;
  description?: string | undefined;
  /** Audio file to play; copied into the collection when it is outside. */
  audio?: string | undefined;
  /** Message to speak instead of an audio file. */
  text?: string | undefined;
  /** Record the story from the microphone (settings.record) instead. */
  record?: boolean | undefined;
  /** The story's language (espeak-ng's voice for `text`); default the object's, else the manifest's. */
  language?: string | undefined;
  tapTimeoutMs?: number | undefined;
  /** Environment for arecord (tests point ALSA_CONFIG_PATH at a virtual capture device). */
  recordEnv?: NodeJS.ProcessEnv | undefined;
}

export interface BoxAssignResult {
  uid: string;
  object: ManifestObject;
  manifestPath: string;
  /** The entry this one replaced, if the tag was assigned before. */
  replaced: ManifestObject | null;
  /** The story file, its original and the loudness applied. */
  story: StoryFile;
}

export async function runBoxAssign(options: BoxAssignOptions): Promise<BoxAssignResult> {
  const folder = resolve(options.collection ?? options.settings.collection);
  const prompt = options.prompt ?? terminalPrompt();
  try {
    await mkdir(folder, { recursive: true });
    const before = await loadCollection(folder, { allowNew: true });
    const tag = await waitForTap(options, prompt);
    const uid = tag.uid;
    const replaced = before.byUid(uid) ?? null;
    prompt.say(
      replaced
        ? `Tag ${uid} is "${replaced.title}" (${replaced.audio}); the new entry replaces it.`
        : before.adminAction(uid)
          ? `Tag ${uid} is an admin tag (${before.adminAction(uid)}); it becomes an object.`
          : `Tag ${uid} is new to "${before.title}".`,
    );
    const interactive = options.title === undefined;
    const title = options.title ?? ((await prompt.ask('Title of the object: ')) || `Object ${uid}`);
    const description = options.description ?? (interactive ? await prompt.ask('Description (optional): ') : '');
    const existing = before.manifest.objects.find((o) => o.uid === uid);
    const storyLanguage = existing ? mainLanguage(before.manifest, existing) : before.manifest.language;
    const sound = await chooseSound(options, prompt, folder, title, storyLanguage);
    if (sound.file.loudness) prompt.say(`Trimmed and normalised to ${sound.file.loudness.integrated.toFixed(1)} LUFS; the original is ${sound.file.original}.`);
    else prompt.say(`Trimmed (too short to measure its loudness); the original is ${sound.file.original}.`);

    // Re-read: someone may have assigned another tag while this one waited for answers.
    const current = await loadCollection(folder, { allowNew: true });
    const keptId = current.byUid(uid)?.id;
    const object = withStory(
      current.manifest,
      current.manifest.objects.find((o) => o.uid === uid),
      { uid, ...(keptId ? { id: keptId } : {}), title, description },
      sound,
    );
    const manifest = manifestSchema.parse({
      ...current.manifest,
      // A change is a new version; a collection's first save is version 1.
      version: existsSync(current.manifestPath) ? current.version + 1 : current.version,
      objects: [...current.manifest.objects.filter((o) => o.uid !== uid), object],
      admin: current.manifest.admin.filter((a) => a.uid !== uid),
    });
    await saveManifest(current.manifestPath, manifest);
    prompt.say(`Saved: tag ${uid} plays "${title}" (${sound.file.audio}, ${sound.language}) — ${current.manifestPath}`);
    return { uid, object, manifestPath: current.manifestPath, replaced, story: sound.file };
  } finally {
    prompt.close();
  }
}

async function waitForTap(options: BoxAssignOptions, prompt: Prompt): Promise<TagInfo> {
  const reader = options.reader ?? assignReader(options.settings, options.log);
  const timeoutMs = options.tapTimeoutMs ?? DEFAULT_TAP_TIMEOUT_MS;
  let onTag!: (tag: TagInfo) => void;
  let timer: NodeJS.Timeout | undefined;
  const tapped = new Promise<TagInfo>((resolvePromise, reject) => {
    onTag = resolvePromise;
    timer = setTimeout(() => reject(new AssignError(`no tag was tapped within ${Math.round(timeoutMs / 1000)} s; run the command again`)), timeoutMs);
  });
  reader.on('tag', onTag);
  try {
    await reader.start();
    prompt.say('Tap the tag you want to assign on the reader...');
    return await tapped;
  } finally {
    clearTimeout(timer);
    reader.off('tag', onTag);
    await reader.stop();
  }
}

function assignReader(settings: MuseumSettings, log: Logger): NfcReader {
  if (settings.reader.mode === 'virtual') return new VirtualNfcReader({ log, tags: DEMO_TAGS.slice(0, 1), tapEveryMs: VIRTUAL_TAP_MS });
  const { name, buzzer, led, commandDeadline } = settings.reader;
  return new ProcessNfcReader({ log, readerName: name, buzzer, led, commandDeadlineMs: commandDeadline });
}

interface Sound {
  file: StoryFile;
  language: string;
  text?: string | undefined;
}

async function chooseSound(options: BoxAssignOptions, prompt: Prompt, folder: string, title: string, defaultLanguage: string): Promise<Sound> {
  const preparation: StoryPreparation = { goal: options.settings.story };
  const interactive = options.title === undefined;
  let file = options.audio;
  let text = options.text;
  let record = options.record === true;
  if (file === undefined && text === undefined && !record) {
    const answer = await prompt.ask(`Audio file to play (WAV or MP3), ${RECORD_ANSWER} to record it here, or press Enter to type a message: `);
    if (answer.toLowerCase() === RECORD_ANSWER) record = true;
    else if (answer) file = answer;
    else text = await prompt.ask('Message to speak: ');
  }
  const askLanguage = async (question: string) => (interactive ? (await prompt.ask(question)) || defaultLanguage : defaultLanguage);
  if (file !== undefined) return { file: await importStory(folder, checkedAudio(file), preparation), language: checkedLanguage(options.language ?? defaultLanguage) };
  if (record) {
    const language = checkedLanguage(options.language ?? (await askLanguage(`Language of the story [${defaultLanguage}]: `)));
    const player = options.player ?? createAudioPlayer(options.settings, options.log, options.settings.reader.mode !== 'virtual');
    const takeFile = join(folder, `.take-${process.pid}.wav`);
    try {
      await recordTake({ prompt, settings: options.settings.record, player, takeFile, env: options.recordEnv });
      return { file: await addStory(folder, slug(title), 'wav', (to) => rename(takeFile, to), preparation), language };
    } finally {
      await rm(takeFile, { force: true });
    }
  }
  if (!text) throw new AssignError('no audio file and no message: give one or the other');
  const spoken = text;
  const language = checkedLanguage(options.language ?? (await askLanguage(`Language [${defaultLanguage}]: `)));
  prompt.say(`Speaking the message in "${language}" with espeak-ng...`);
  const story = await addStory(folder, slug(title), 'wav', (to) => speakToWav(spoken, { language, out: to }), preparation);
  return { file: story, language, text: spoken };
}

/**
 * The object with its new story. In the language of the object's main story (or for a new tag) it
 * becomes the main story, keeping the translations; in another language it joins the translations,
 * keeping the main story.
 */
function withStory(manifest: Manifest, existing: ManifestObject | undefined, base: Pick<ManifestObject, 'uid' | 'id' | 'title' | 'description'>, sound: Sound): ManifestObject {
  const story = { audio: sound.file.audio, ...(sound.text ? { text: sound.text } : {}) };
  if (existing && mainLanguage(manifest, existing) !== sound.language) {
    const { audio, text, language } = existing;
    return { ...base, audio, ...(text ? { text } : {}), ...(language ? { language } : {}), translations: { ...existing.translations, [sound.language]: story } };
  }
  const language = sound.text || sound.language !== manifest.language ? { language: sound.language } : {};
  return { ...base, ...story, ...language, ...(existing?.translations ? { translations: existing.translations } : {}) };
}

function checkedAudio(file: string): string {
  if (!existsSync(resolve(file))) throw new AssignError(`${file} not found: give the path of a WAV or MP3 file`);
  const extension = extname(file).slice(1).toLowerCase();
  if (!(AUDIO_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new AssignError(`${file} is not a WAV or MP3 file: convert it first (e.g. \`sox in.ogg out.wav\`)`);
  }
  return file;
}

function checkedLanguage(code: string): string {
  const lower = code.toLowerCase();
  if (!LANGUAGE_CODE.test(lower)) throw new AssignError(`"${code}" is not a language code: use one such as en, fr, cy or pt-br`);
  return lower;
}

function slug(title: string): string {
  const cleaned = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
  return cleaned || 'message';
}
