/**
 * The collection bundle: what `hedgerow box export` writes and `hedgerow box import` accepts. A
 * gzip-compressed tar holding one folder named after the collection:
 *
 *   <name>/bundle.json       what the bundle is (bundleInfo below), first, so an import can refuse an oversize one early
 *   <name>/manifest.yaml     the collection's manifest, as it was (or .yml / .json)
 *   <name>/<audio files>     every file the manifest names, and any other audio in the folder (NDEF tags may name them)
 *   <name>/checksums.sha256  sha256sum's format, last: `cd <name> && sha256sum -c checksums.sha256` checks every other file
 *
 * Regular files and folders only. Anything else, and any file type but these, is refused at import.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { AUDIO_EXTENSIONS, MANIFEST_NAMES } from './museum-collection.ts';

export const BUNDLE_FORMAT = 'hedgerow-collection-bundle';
/** Raised only when an older box could not read a new bundle correctly. */
export const BUNDLE_FORMAT_VERSION = 1;
export const BUNDLE_INFO_FILE = 'bundle.json';
export const CHECKSUMS_FILE = 'checksums.sha256';

export const BUNDLE_LIMITS = {
  /**
   * Most bytes of files an import unpacks, and so reads: 1 GiB holds about 200 one-minute WAV stories at
   * CD quality (or 8,000 as MP3), and stays well inside a box's SD card.
   */
  maxBytes: 1024 ** 3,
  /** Most entries (files and folders) in a bundle. */
  maxEntries: 10_000,
} as const;

/** A collection name is one folder name: it becomes the collection's folder and its `collection:<name>` admin tag. */
export const collectionName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^/\\.\0][^/\\\0]*$/, 'a collection name is one folder name: no "/" or "\\", not starting with "."');

/** bundle.json. */
export const bundleInfo = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    /** A bundle from a newer format is refused with "update this box", not half read. */
    formatVersion: z.number().int().positive(),
    /** The collection's folder name at export; import installs it under this name unless told another. */
    name: collectionName,
    title: z.string().min(1),
    /** The manifest's version. */
    version: z.number().int().positive(),
    languages: z.array(z.string().min(1)),
    objectCount: z.number().int().nonnegative(),
    /** How many collection files follow (the manifest and the audio), and their bytes: bundle.json and the checksums are not counted. */
    fileCount: z.number().int().nonnegative(),
    totalBytes: z.number().int().nonnegative(),
    /** When the bundle was made, ISO 8601 UTC. */
    exportedAt: z.iso.datetime(),
  })
  .strict();
export type BundleInfo = z.output<typeof bundleInfo>;

/** A bundle that cannot be written or must not be installed; the message says why and what to do. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** An audio file by its extension, one the manifest schema allows. */
export function isAudioPath(path: string): boolean {
  return (AUDIO_EXTENSIONS as readonly string[]).includes(posix.extname(path).slice(1).toLowerCase());
}

/** What a path inside the collection folder may hold: bundle.json, the checksums and a manifest at the top, audio anywhere. */
export function allowedBundleFile(path: string): boolean {
  return (!path.includes('/') && [BUNDLE_INFO_FILE, CHECKSUMS_FILE, ...MANIFEST_NAMES].includes(path)) || isAudioPath(path);
}

/** checksums.sha256 in sha256sum's text format: "<hex>  <path>" per line. */
export function formatChecksums(sums: ReadonlyMap<string, string>): string {
  return [...sums].map(([path, sum]) => `${sum}  ${path}\n`).join('');
}

/** Parses checksums.sha256 (sha256sum's text or binary marker); a line that is neither is an error naming it. */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (!match) throw new BundleError(`${CHECKSUMS_FILE} line ${index + 1} is not "<sha256>  <file>": the bundle is damaged; export it again`);
    sums.set(match[2]!, match[1]!.toLowerCase());
  });
  return sums;
}

/** Bytes as people read them: KiB under a MiB, else MiB with one decimal. */
export function byteSize(bytes: number): string {
  return bytes < 1024 ** 2 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
