/**
 * `hedgerow box export --collection DIR FILE`: writes the collection as one bundle (museum-bundle-format.ts).
 * The collection folder is only read: its version is the manifest's, so the same collection exported
 * twice is the same version. The file appears whole or not at all (written beside, then renamed).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import {
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  BUNDLE_INFO_FILE,
  BUNDLE_LIMITS,
  BundleError,
  bundleInfo,
  CHECKSUMS_FILE,
  collectionName,
  formatChecksums,
  isAudioPath,
  byteSize,
  type BundleInfo,
} from './museum-bundle-format.ts';
import { fsyncPath } from './atomic-file.ts';
import { loadCollection, type Collection } from './museum-collection.ts';
import { SOURCE_FILE } from './collection-source.ts';
import { TAR_END, tarHeader, tarPadding } from './tar-blocks.ts';

export interface ExportOptions {
  collection: string;
  file: string;
  /** Epoch ms, for bundle.json's exportedAt and the entries' times. */
  now?: () => number;
  /**
   * Date the bundle by its newest file instead of the clock, so an unchanged collection exports to the
   * same bytes: the exchange takes the same bytes again as a no-op and other bytes of one version as a conflict.
   */
  reproducible?: boolean;
}

export interface ExportResult {
  file: string;
  info: BundleInfo;
  /** Files in the folder a bundle cannot carry (not audio, or hidden), relative to it. */
  leftOut: string[];
}

interface CollectionFile {
  /** Path inside the collection folder, with "/" separators. */
  path: string;
  absolute: string;
  size: number;
  mtime: Date;
}

export async function exportCollection(options: ExportOptions): Promise<ExportResult> {
  const collection = await loadCollection(options.collection);
  const name = collectionName.safeParse(collection.name);
  if (!name.success) {
    throw new BundleError(`the folder name "${collection.name}" cannot travel as a collection name (${name.error.issues[0]!.message}): rename the folder, then export again`);
  }
  const { files, leftOut } = await collectionFiles(collection);
  const carried = new Set(files.map((f) => f.absolute));
  const missing = collection.namedAudioFiles.filter((file) => !carried.has(file)).map((file) => relative(collection.dir, file));
  if (missing.length > 0) {
    throw new BundleError(
      `the manifest names audio the folder lacks (${missing.join(', ')}): copy ${missing.length === 1 ? 'it' : 'them'} into ${collection.dir} or assign ${missing.length === 1 ? 'that tag' : 'those tags'} again, then export (\`hedgerow box list\` shows the gaps)`,
    );
  }
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  if (totalBytes > BUNDLE_LIMITS.maxBytes) {
    throw new BundleError(`the collection holds ${byteSize(totalBytes)}, more than a box imports (${byteSize(BUNDLE_LIMITS.maxBytes)}): split it, or use MP3 for long stories`);
  }
  const now = options.reproducible ? new Date(Math.max(0, ...files.map((f) => f.mtime.getTime()))) : new Date((options.now ?? Date.now)());
  const info = bundleInfo.parse({
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    name: name.data,
    title: collection.title,
    version: collection.version,
    languages: collection.languages,
    objectCount: collection.objects.length,
    fileCount: files.length,
    totalBytes,
    exportedAt: now.toISOString(),
  });
  const target = resolve(options.file);
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    await pipeline(Readable.from(tarStream(info, files, now)), createGzip(), createWriteStream(temporary, { flags: 'wx' }));
    // The stream has closed its own descriptor by now.
    await fsyncPath(temporary);
    await rename(temporary, target);
    await fsyncPath(dirname(target));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { file: target, info, leftOut };
}

/** The manifest and every audio file under the folder (names starting with "." are left out, as are other files). */
async function collectionFiles(collection: Collection): Promise<{ files: CollectionFile[]; leftOut: string[] }> {
  const files: CollectionFile[] = [];
  const leftOut: string[] = [];
  const manifest = relative(collection.dir, collection.manifestPath);
  const walk = async (folder: string): Promise<void> => {
    for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const absolute = join(folder, entry.name);
      const path = relative(collection.dir, absolute).split(sep).join('/');
      if (entry.isDirectory()) {
        if (entry.name.startsWith('.')) leftOut.push(`${path}/`);
        else await walk(absolute);
        continue;
      }
      // A symlinked file travels as the file it points to; anything else that is not a file stays.
      const info = await stat(absolute).catch(() => null);
      const carried = info?.isFile() && !entry.name.startsWith('.') && (path === manifest || isAudioPath(path));
      if (carried) files.push({ path, absolute, size: info!.size, mtime: info!.mtime });
      // The follow source file is the box's own note, not the collection's: leaving it out needs no mention.
      else if (path !== SOURCE_FILE) leftOut.push(path);
    }
  };
  await walk(collection.dir);
  // The manifest first: a reader of the archive sees what the collection is before its audio.
  files.sort((a, b) => Number(b.path === manifest) - Number(a.path === manifest));
  return { files, leftOut };
}

async function* tarStream(info: BundleInfo, files: readonly CollectionFile[], now: Date): AsyncGenerator<Buffer> {
  const sums = new Map<string, string>();
  const text = function* (path: string, content: string): Generator<Buffer> {
    const body = Buffer.from(content);
    sums.set(path, createHash('sha256').update(body).digest('hex'));
    yield tarHeader({ path: `${info.name}/${path}`, type: 'File', mode: 0o644, size: body.length, mtime: now, uid: 0, gid: 0 });
    yield body;
    yield tarPadding(body.length);
  };
  yield tarHeader({ path: `${info.name}/`, type: 'Directory', mode: 0o755, size: 0, mtime: now, uid: 0, gid: 0 });
  yield* text(BUNDLE_INFO_FILE, `${JSON.stringify(info, null, 2)}\n`);
  for (const file of files) {
    yield tarHeader({ path: `${info.name}/${file.path}`, type: 'File', mode: 0o644, size: file.size, mtime: file.mtime, uid: 0, gid: 0 });
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of createReadStream(file.absolute, { end: Math.max(0, file.size - 1) }) as AsyncIterable<Buffer>) {
      if (file.size === 0) break;
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
    // The header promised `size` bytes: a file that shrank meanwhile would shift every entry after it.
    if (bytes !== file.size) throw new BundleError(`${file.path} changed while it was exported: export again`);
    sums.set(file.path, hash.digest('hex'));
    yield tarPadding(file.size);
  }
  yield* text(CHECKSUMS_FILE, formatChecksums(sums));
  yield TAR_END;
}

/** What `hedgerow box export` prints. */
export function exportSummary({ file, info, leftOut }: ExportResult): string[] {
  const lines = [
    `Exported "${info.title}" (${info.name}, version ${info.version}, ${info.languages.join('/')}): ${info.objectCount} objects, ${info.fileCount} files, ${byteSize(info.totalBytes)} → ${file}`,
    `Import it on another box with: hedgerow box import ${basename(file)}`,
  ];
  if (leftOut.length > 0) lines.push(`Left out (a bundle carries only the manifest and audio): ${leftOut.join(', ')}`);
  return lines;
}
