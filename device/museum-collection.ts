/**
 * A collection: a folder with a manifest (manifest.yaml, manifest.yml or manifest.json) and the audio
 * files it names. The manifest maps tag UIDs (and NDEF ids, as Museum in a Box's own tags carry) to
 * objects, and UIDs to admin actions. It is parsed once, at load, into a typed value: a bad entry or
 * an audio path that leaves the folder (`../../etc/passwd`) stops the load with the entry's path.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.ts';
import { ConfigError } from '../hardware/core/config-file.ts';

export const MANIFEST_NAMES = ['manifest.yaml', 'manifest.yml', 'manifest.json'] as const;
/** Where a new collection's manifest goes. */
export const DEFAULT_MANIFEST = MANIFEST_NAMES[0];
export const AUDIO_EXTENSIONS = ['wav', 'mp3'] as const;

/** A manifest is configuration: its problems are reported like the config file's, one "path: message" each. */
export { ConfigError as CollectionError } from '../hardware/core/config-file.ts';

/** "04:A2:24:E2:C8:5E:80" or "04a224e2c85e80" → "04a224e2c85e80": UIDs compare in one spelling. */
export function normalizeUid(uid: string): string {
  return uid.replace(/[\s:-]/g, '').toLowerCase();
}

const uid = z
  .string()
  .transform(normalizeUid)
  .pipe(z.string().regex(/^([0-9a-f]{2}){4,10}$/, 'a tag UID is 4 to 10 bytes of hex, e.g. 04a224e2c85e80 (the box logs it on each tap)'));

export const adminAction = z.union([
  z.enum(['volume-up', 'volume-down', 'stop', 'next-collection']),
  z.string().regex(/^collection:[^/\\]+$/, 'use volume-up, volume-down, stop, next-collection or collection:<folder name>'),
]);
export type AdminAction = z.output<typeof adminAction>;

/** An audio path relative to the collection folder; whether it stays inside is checked against the folder at load. */
const audioPath = z
  .string()
  .min(1)
  .refine((p) => AUDIO_EXTENSIONS.some((e) => p.toLowerCase().endsWith(`.${e}`)), `audio files must be ${AUDIO_EXTENSIONS.join(' or ')}`);

const objectEntry = z
  .object({
    /** The tag's UID. */
    uid: uid.optional(),
    /** The id an NDEF text record carries ({"id":"347"}), for tags written by Museum in a Box. */
    id: z.union([z.string().min(1), z.number()]).transform(String).optional(),
    title: z.string().min(1),
    description: z.string().default(''),
    audio: audioPath,
    /** The text the audio was spoken from, kept so it can be spoken again in another voice. */
    text: z.string().optional(),
    language: z.string().optional(),
  })
  .strict()
  .refine((o) => o.uid !== undefined || o.id !== undefined, { message: 'give the tag uid, an NDEF id, or both' });

const adminEntry = z.object({ uid, action: adminAction }).strict();

export const manifestSchema = z
  .object({
    title: z.string().min(1).default('Untitled collection'),
    /**
     * Goes up by one each time the box changes the manifest (`hedgerow box assign`), never on export,
     * so exporting twice gives the same version and taps and bundles say which one a box plays.
     */
    version: z.number().int().positive().default(1),
    /** espeak-ng language for typed messages. */
    language: z.string().min(2).default('en'),
    objects: z.array(objectEntry).default([]),
    admin: z.array(adminEntry).default([]),
  })
  .strict();

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestObject = Manifest['objects'][number];

export interface CollectionObject extends ManifestObject {
  /** Absolute path of the audio file. */
  audioFile: string;
  /** What tap records carry as object_id: the NDEF id if any, else the UID. */
  objectId: string;
}

export class Collection {
  private readonly uids = new Map<string, CollectionObject>();
  private readonly ids = new Map<string, CollectionObject>();
  private readonly admins = new Map<string, AdminAction>();
  readonly objects: readonly CollectionObject[];

  constructor(
    /** Absolute folder path. */
    readonly dir: string,
    /** The manifest file (it may not exist yet for a new collection). */
    readonly manifestPath: string,
    readonly manifest: Manifest,
  ) {
    this.objects = manifest.objects.map((o) => ({ ...o, audioFile: join(dir, o.audio), objectId: o.id ?? o.uid! }));
    for (const object of this.objects) {
      if (object.uid) this.uids.set(object.uid, object);
      if (object.id) this.ids.set(object.id, object);
    }
    for (const entry of manifest.admin) this.admins.set(entry.uid, entry.action);
  }

  get title(): string {
    return this.manifest.title;
  }

  /** The collection's name: its folder's, what `collection:<name>` admin tags and tap records use. */
  get name(): string {
    return basename(this.dir);
  }

  get version(): number {
    return this.manifest.version;
  }

  byUid(tagUid: string): CollectionObject | undefined {
    return this.uids.get(normalizeUid(tagUid));
  }

  byId(id: string): CollectionObject | undefined {
    return this.ids.get(id);
  }

  adminAction(tagUid: string): AdminAction | undefined {
    return this.admins.get(normalizeUid(tagUid));
  }

  /** Every audio file the manifest names, absolute, each once: what a collection needs to play (and a bundle must carry). */
  get namedAudioFiles(): string[] {
    return [...new Set(this.objects.map((o) => o.audioFile))];
  }

  /** The languages its stories are in: the collection's own first, then any an object names. */
  get languages(): string[] {
    return [...new Set([this.manifest.language, ...this.objects.flatMap((o) => (o.language ? [o.language] : []))])];
  }

  /** An audio path from a tag (NDEF), resolved inside the folder; null when it would leave it or is not audio. */
  audioFile(path: string): string | null {
    if (!audioPath.safeParse(path).success) return null;
    return insideFolder(this.dir, path);
  }
}

/** The absolute path of `path` under `dir`, or null when it is absolute or climbs out. */
export function insideFolder(dir: string, path: string): string | null {
  if (isAbsolute(path) || path.includes('\0')) return null;
  const full = resolve(dir, path);
  const rel = relative(dir, full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
  return full;
}

export function findManifest(dir: string): string | null {
  for (const name of MANIFEST_NAMES) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * Loads a collection folder. A folder without a manifest is an empty collection when `allowNew` is
 * set (`hedgerow box assign` starts one that way); otherwise it is an error saying how to start one.
 */
export async function loadCollection(folder: string, options: { allowNew?: boolean } = {}): Promise<Collection> {
  const dir = resolve(folder);
  const manifestPath = findManifest(dir);
  if (!manifestPath) {
    if (options.allowNew) return new Collection(dir, join(dir, DEFAULT_MANIFEST), manifestSchema.parse({ title: basename(dir) }));
    throw new ConfigError(dir, [
      `no ${MANIFEST_NAMES.join(', ')} here: create the folder's manifest with \`hedgerow box assign --collection ${folder}\``,
    ]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(manifestPath, 'utf8')) ?? {};
  } catch (error) {
    throw new ConfigError(manifestPath, [`not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`]);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      manifestPath,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`),
    );
  }
  const problems = [...escapingPaths(dir, parsed.data), ...duplicates(parsed.data)];
  if (problems.length > 0) throw new ConfigError(manifestPath, problems);
  return new Collection(dir, manifestPath, parsed.data);
}

/** Writes the manifest atomically, in the format its file name says. */
export async function saveManifest(path: string, manifest: Manifest): Promise<void> {
  const text = extname(path) === '.json' ? `${JSON.stringify(manifest, null, 2)}\n` : stringifyYaml(manifest);
  await writeFileAtomic(path, text);
}

function escapingPaths(dir: string, manifest: Manifest): string[] {
  return manifest.objects.flatMap((object, index) =>
    insideFolder(dir, object.audio) === null
      ? [`objects.${index}.audio: "${object.audio}" is outside the collection folder; keep audio files inside ${dir}`]
      : [],
  );
}

function duplicates(manifest: Manifest): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const claim = (key: string, where: string) => {
    const first = seen.get(key);
    if (first) problems.push(`${where}: ${key.replace(/^[a-z]+ /, '')} is already used by ${first}`);
    else seen.set(key, where);
  };
  manifest.objects.forEach((object, index) => {
    if (object.uid) claim(`uid ${object.uid}`, `objects.${index}.uid`);
    if (object.id) claim(`id ${object.id}`, `objects.${index}.id`);
  });
  manifest.admin.forEach((entry, index) => claim(`uid ${entry.uid}`, `admin.${index}.uid`));
  return problems;
}
