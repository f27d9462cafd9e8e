/**
 * `hedgerow box assign`: "tap the tag you want to assign", then pick an audio file or type a message
 * that espeak-ng speaks into a WAV in the collection. The manifest is re-read just before it is
 * written and replaced atomically, so a power cut mid-save leaves the old manifest whole.
 * Answers given as options are not asked, so the command also works from a script.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, extname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Logger } from 'pino';
import type { NfcReader, TagInfo } from '../hardware/nfc-reader.ts';
import { ProcessNfcReader } from '../hardware/nfc-process-reader.ts';
import { speakToWav } from '../hardware/speech-synth.ts';
import { VirtualNfcReader } from '../hardware/virtual-nfc-reader.ts';
import { AUDIO_EXTENSIONS, insideFolder, loadCollection, manifestSchema, saveManifest, type ManifestObject } from './museum-collection.ts';
import { DEMO_TAGS } from './museum-demo.ts';
import type { MuseumSettings } from './museum-settings.ts';

const DEFAULT_TAP_TIMEOUT_MS = 120_000;
const VIRTUAL_TAP_MS = 1000;

export class AssignError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssignError';
  }
}

/** Where questions go and answers come from: the terminal, or a script in tests. */
export interface Prompt {
  say(line: string): void;
  ask(question: string): Promise<string>;
  close(): void;
}

export function terminalPrompt(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Prompt {
  const lines = createInterface({ input, output });
  return {
    say: (line) => void output.write(`${line}\n`),
    ask: async (question) => (await lines.question(question)).trim(),
    close: () => lines.close(),
  };
}

export interface BoxAssignOptions {
  settings: MuseumSettings;
  log: Logger;
  /** Collection folder; default settings.collection. Created when missing. */
  collection?: string | undefined;
  prompt?: Prompt | undefined;
  /** Default: the real reader (a virtual one that taps a demo tag when settings.reader.mode is virtual). */
  reader?: NfcReader | undefined;
  title?: string | undefined;
  description?: string | undefined;
  /** Audio file to play; copied into the collection when it is outside. */
  audio?: string | undefined;
  /** Message to speak instead of an audio file. */
  text?: string | undefined;
  /** espeak-ng language for `text`; default the manifest's language. */
  language?: string | undefined;
  tapTimeoutMs?: number | undefined;
}

export interface BoxAssignResult {
  uid: string;
  object: ManifestObject;
  manifestPath: string;
  /** The entry this one replaced, if the tag was assigned before. */
  replaced: ManifestObject | null;
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
    const sound = await chooseSound(options, prompt, folder, title, before.manifest.language);

    // Re-read: someone may have assigned another tag while this one waited for answers.
    const current = await loadCollection(folder, { allowNew: true });
    const keptId = current.byUid(uid)?.id;
    const object: ManifestObject = {
      uid,
      ...(keptId ? { id: keptId } : {}),
      title,
      description,
      audio: sound.audio,
      ...(sound.text ? { text: sound.text, language: sound.language } : {}),
    };
    const manifest = manifestSchema.parse({
      ...current.manifest,
      // A change is a new version; a collection's first save is version 1.
      version: existsSync(current.manifestPath) ? current.version + 1 : current.version,
      objects: [...current.manifest.objects.filter((o) => o.uid !== uid), object],
      admin: current.manifest.admin.filter((a) => a.uid !== uid),
    });
    await saveManifest(current.manifestPath, manifest);
    prompt.say(`Saved: tag ${uid} plays "${title}" (${sound.audio}) — ${current.manifestPath}`);
    return { uid, object, manifestPath: current.manifestPath, replaced };
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

async function chooseSound(
  options: BoxAssignOptions,
  prompt: Prompt,
  folder: string,
  title: string,
  defaultLanguage: string,
): Promise<{ audio: string; text?: string; language?: string }> {
  let file = options.audio;
  let text = options.text;
  if (file === undefined && text === undefined) {
    const answer = await prompt.ask('Audio file to play (WAV or MP3), or press Enter to type a message: ');
    if (answer) file = answer;
    else text = await prompt.ask('Message to speak: ');
  }
  if (file !== undefined) return { audio: await importAudio(file, folder) };
  if (!text) throw new AssignError('no audio file and no message: give one or the other');
  const language =
    options.language ?? (options.title === undefined ? (await prompt.ask(`Language [${defaultLanguage}]: `)) || defaultLanguage : defaultLanguage);
  const audio = freeName(folder, `${slug(title)}.wav`);
  prompt.say(`Speaking the message in "${language}" with espeak-ng...`);
  await speakToWav(text, { language, out: join(folder, audio) });
  return { audio, text, language };
}

/** The file's path inside the collection, copying it in when it lives elsewhere. */
async function importAudio(file: string, folder: string): Promise<string> {
  const source = resolve(file);
  if (!existsSync(source)) throw new AssignError(`${file} not found: give the path of a WAV or MP3 file`);
  const extension = extname(source).slice(1).toLowerCase();
  if (!(AUDIO_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new AssignError(`${file} is not a WAV or MP3 file: convert it first (e.g. \`sox in.ogg out.wav\`)`);
  }
  const inside = insideFolder(folder, relative(folder, source));
  if (inside !== null) return relative(folder, source);
  const name = freeName(folder, basename(source));
  await copyFile(source, join(folder, name));
  return name;
}

/** `name`, or name-2, name-3... when the collection already has a file by that name. */
function freeName(folder: string, name: string): string {
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  let candidate = name;
  for (let n = 2; existsSync(join(folder, candidate)); n++) candidate = `${stem}-${n}${extension}`;
  return candidate;
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
