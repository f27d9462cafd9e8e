/**
 * `hedgerow box import FILE [--as NAME]`: installs a bundle (museum-bundle-format.ts) beside the other
 * collections, or nothing at all. Each entry is checked from its header before a byte of it is written
 * (paths that leave the folder, links, devices, file types, sizes); the files go into a hidden folder
 * beside the collections; then checksums, bundle.json and the manifest are checked against what was
 * unpacked, and only then one rename puts the collection in place. The hidden folder holds the
 * collection one level down, so a box listing collections (next-collection) never sees a half-imported one.
 *
 * A replace (a followed collection's new version) swaps folders with two renames: the installed one moves
 * into the hidden folder, then the new one takes its place. rename(2) cannot put a folder over a
 * non-empty one, so there is a moment with neither in place: the hidden folder names the collection it
 * replaces, and the next import (or the box's start, repairInterruptedImports) puts the old one back
 * if the process died in that moment.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, stat, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, resolve, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import {
  allowedBundleFile,
  BUNDLE_FORMAT_VERSION,
  BUNDLE_INFO_FILE,
  BUNDLE_LIMITS,
  BundleError,
  bundleInfo,
  CHECKSUMS_FILE,
  collectionName,
  byteSize,
  parseChecksums,
  type BundleInfo,
} from './museum-bundle-format.ts';
import { fsyncPath } from './atomic-file.ts';
import { CollectionError, loadCollection, MANIFEST_NAMES } from './museum-collection.ts';

export interface ImportOptions {
  file: string;
  /** Where the collection is installed, beside the others. */
  collectionsDir: string;
  /** Install under this name instead of the bundle's. */
  as?: string;
  limits?: { maxBytes: number; maxEntries: number };
  /** How messages name the bundle (e.g. the URL it came from); default `file`. */
  shownAs?: string;
  /** Put it over the installed collection of that name, atomically, instead of refusing (a followed collection's update). */
  replace?: boolean;
  /** Hidden files (".name" → text) put into the collection before it goes in place, e.g. the follow source file; a bundle never carries these. */
  hiddenFiles?: ReadonlyMap<string, string>;
}

export interface ImportResult {
  /** The installed collection's folder. */
  dir: string;
  info: BundleInfo;
}

/** Hidden folders (and download files) of an import in progress, with the importing process's id after it. */
export const TEMP_PREFIX = '.hedgerow-import-';
/** Inside the hidden folder: the collection being installed, the one it replaces, and that one's name. */
const NEW_DIR = 'collection';
const OLD_DIR = 'replaced';
const REPLACES_FILE = 'replaces';
const GZIP_MAGIC = [0x1f, 0x8b];
/** Bytes of tar headers and padding allowed per entry on top of its body, when capping what is decompressed. */
const TAR_OVERHEAD_PER_ENTRY = 2 * 512;

interface Unpacked {
  /** Path inside the collection folder → its sha256 and size. */
  files: Map<string, { sha256: string; size: number }>;
  info: BundleInfo | null;
}

export async function importBundle(options: ImportOptions): Promise<ImportResult> {
  const collectionsDir = resolve(options.collectionsDir);
  const limits = options.limits ?? BUNDLE_LIMITS;
  const replace = options.replace === true;
  let temporary: string | null = null;
  let createdDir: string | undefined;
  try {
    const asName = options.as === undefined ? undefined : checkedName(options.as, '--as');
    if (asName !== undefined && !replace) await refuseExisting(collectionsDir, asName, true);
    const hiddenFiles = checkedHiddenFiles(options.hiddenFiles);
    await stat(options.file).catch((error: NodeJS.ErrnoException) => {
      throw new BundleError(`cannot read it (${error.code ?? error.message}): check the path`);
    });
    createdDir = await mkdir(collectionsDir, { recursive: true });
    await repairInterruptedImports(collectionsDir);
    temporary = await mkdtemp(join(collectionsDir, `${TEMP_PREFIX}${process.pid}-`));
    const root = join(temporary, NEW_DIR);
    mkdirSync(root);
    const unpacked = await unpack(options.file, root, limits, async (info) => {
      if (info.totalBytes > limits.maxBytes) throw new BundleError(`bundle.json declares ${byteSize(info.totalBytes)} of files, more than a box imports (${byteSize(limits.maxBytes)})`);
      const free = await statfs(collectionsDir);
      if (info.totalBytes > free.bavail * free.bsize) throw new BundleError(`it needs ${byteSize(info.totalBytes)} and ${collectionsDir} has ${byteSize(free.bavail * free.bsize)} free: make room, then import again`);
      if (asName === undefined && !replace) await refuseExisting(collectionsDir, info.name, false);
    });
    const info = await verify(unpacked, root);
    for (const [name, text] of hiddenFiles) {
      await writeFile(join(root, name), text, { flag: 'wx' });
      await fsyncPath(join(root, name));
    }
    const name = asName ?? info.name;
    const target = join(collectionsDir, name);
    const installed = replace && (await stat(target).then((s) => s.isDirectory(), () => false));
    if (installed) await swapIn(temporary, target);
    else {
      await refuseExisting(collectionsDir, name, asName !== undefined);
      await rename(root, target);
    }
    await fsyncPath(collectionsDir);
    await rm(temporary, { recursive: true, force: true });
    return { dir: target, info };
  } catch (error) {
    if (temporary) {
      await putBackReplaced(temporary, collectionsDir);
      await rm(temporary, { recursive: true, force: true });
    }
    if (createdDir) await rmdir(createdDir).catch(() => undefined);
    const reason = error instanceof BundleError ? error.message : error instanceof Error ? error.message : String(error);
    throw new BundleError(`${options.shownAs ?? options.file} was not imported, nothing was changed: ${reason}`);
  }
}

/** The installed collection moves into the hidden folder (which names it first), then the new one takes its place. */
async function swapIn(temporary: string, target: string): Promise<void> {
  await writeFile(join(temporary, REPLACES_FILE), basename(target));
  await fsyncPath(join(temporary, REPLACES_FILE));
  await rename(target, join(temporary, OLD_DIR));
  await fsyncPath(dirname(target));
  await rename(join(temporary, NEW_DIR), target);
}

/** Puts a replaced collection back when the new one is not in its place (a failed or interrupted swap). */
async function putBackReplaced(temporary: string, collectionsDir: string): Promise<void> {
  const name = await readFile(join(temporary, REPLACES_FILE), 'utf8').catch(() => null);
  if (name === null || !collectionName.safeParse(name).success) return;
  const old = join(temporary, OLD_DIR);
  const target = join(collectionsDir, name);
  const oldThere = await stat(old).then(() => true, () => false);
  const targetThere = await stat(target).then(() => true, () => false);
  if (!oldThere || targetThere) return;
  await rename(old, target);
  await fsyncPath(collectionsDir);
}

function checkedHiddenFiles(files: ReadonlyMap<string, string> | undefined): ReadonlyMap<string, string> {
  for (const name of files?.keys() ?? []) {
    if (!/^\.[^/\\\0]+$/.test(name) || name.startsWith(TEMP_PREFIX)) throw new BundleError(`${name}: a file the box adds to a collection is one hidden file name`);
  }
  return files ?? new Map();
}

function checkedName(name: string, what: string): string {
  const parsed = collectionName.safeParse(name);
  if (!parsed.success) throw new BundleError(`${what} "${name}": ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

async function refuseExisting(collectionsDir: string, name: string, chosen: boolean): Promise<void> {
  const exists = await stat(join(collectionsDir, name)).then(() => true, () => false);
  if (!exists) return;
  throw new BundleError(
    chosen
      ? `${join(collectionsDir, name)} already exists: pick another name with --as`
      : `a collection called "${name}" is already in ${collectionsDir}: import this one under another name with --as NAME, or remove the old folder first`,
  );
}

/**
 * What a killed import left behind (its process is gone): a replaced collection caught between the two
 * renames goes back in place, then the hidden folder and any download beside it go. Runs before every
 * import and when a box starts, so a collection is whole before anything reads it.
 */
export async function repairInterruptedImports(collectionsDir: string): Promise<void> {
  const names = await readdir(collectionsDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const name of names) {
    const pid = Number(name.startsWith(TEMP_PREFIX) ? /^(\d+)-/.exec(name.slice(TEMP_PREFIX.length))?.[1] : undefined);
    if (!pid || alive(pid)) continue;
    await putBackReplaced(join(collectionsDir, name), collectionsDir);
    await rm(join(collectionsDir, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Streams the bundle into `root`, refusing at the first entry that breaks a rule, before writing it.
 * Reading stops at the limits: a header declaring 2 GB is refused on its 512 bytes.
 */
function unpack(file: string, root: string, limits: { maxBytes: number; maxEntries: number }, onInfo: (info: BundleInfo) => Promise<void>): Promise<Unpacked> {
  return new Promise<Unpacked>((resolvePromise, reject) => {
    const result: Unpacked = { files: new Map(), info: null };
    const input = createReadStream(file);
    const gunzip = createGunzip();
    const parser = new Parser({ strict: true, zstd: false, brotli: false });
    let top: string | undefined;
    let entries = 0;
    let bodyBytes = 0;
    let decompressed = 0;
    let openFd: number | null = null;
    let failed = false;
    let pendingInfo: Promise<void> = Promise.resolve();
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      gunzip.destroy();
      if (openFd !== null) closeSync(openFd);
      openFd = null;
      reject(error instanceof BundleError ? error : new BundleError(readProblem(error)));
    };
    const decompressedLimit = limits.maxBytes + (limits.maxEntries + 2) * TAR_OVERHEAD_PER_ENTRY;

    input.on('error', fail);
    gunzip.on('error', fail);
    parser.on('error', fail);
    parser.on('warn', (_code: string, message: string) => fail(new BundleError(`not a readable tar archive (${message})`)));
    gunzip.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (decompressed === 0 && chunk[0] === GZIP_MAGIC[0] && chunk[1] === GZIP_MAGIC[1]) {
        fail(new BundleError('it is compressed twice: a bundle is one tar.gz, as `hedgerow box export` writes it'));
        return;
      }
      decompressed += chunk.length;
      if (decompressed > decompressedLimit) {
        fail(new BundleError(`it unpacks to more than a box imports (${byteSize(limits.maxBytes)})`));
        return;
      }
      if (!parser.write(chunk)) {
        gunzip.pause();
        parser.once('drain', () => gunzip.resume());
      }
    });
    gunzip.on('end', () => {
      if (!failed) parser.end();
    });
    parser.on('end', () => {
      if (failed) return;
      pendingInfo.then(() => (failed ? undefined : resolvePromise(result)), fail);
    });
    parser.on('entry', (entry: ReadEntry) => {
      if (failed) return entry.resume();
      try {
        entries += 1;
        if (entries > limits.maxEntries) throw new BundleError(`it holds more than ${limits.maxEntries} entries`);
        const path = entryPath(entry, top);
        top ??= path.top;
        if (entry.type === 'Directory') return entry.resume();
        if (entry.size > limits.maxBytes || bodyBytes + entry.size > limits.maxBytes) {
          throw new BundleError(`${entry.path} declares ${byteSize(entry.size)}, more than a box imports (${byteSize(limits.maxBytes)} in all)`);
        }
        if (result.files.has(path.inside)) throw new BundleError(`${entry.path} is in the bundle twice`);
        const destination = join(root, ...path.inside.split('/'));
        mkdirSync(dirname(destination), { recursive: true });
        const fd = openSync(destination, 'wx', 0o644);
        openFd = fd;
        const hash = createHash('sha256');
        const chunks: Buffer[] = [];
        let size = 0;
        entry.on('data', (chunk: Buffer) => {
          if (failed) return;
          size += chunk.length;
          bodyBytes += chunk.length;
          // The header's size bounds the body, but count what arrives, not what was promised.
          if (bodyBytes > limits.maxBytes) return fail(new BundleError(`it holds more than a box imports (${byteSize(limits.maxBytes)})`));
          hash.update(chunk);
          writeSync(fd, chunk);
          if (path.inside === BUNDLE_INFO_FILE) chunks.push(chunk);
        });
        entry.on('end', () => {
          if (failed) return;
          fsyncSync(fd);
          closeSync(fd);
          openFd = null;
          result.files.set(path.inside, { sha256: hash.digest('hex'), size });
          if (path.inside === BUNDLE_INFO_FILE) {
            result.info = parseInfo(Buffer.concat(chunks).toString('utf8'));
            const info = result.info;
            pendingInfo = pendingInfo.then(() => onInfo(info)).catch((error: unknown) => fail(error));
          }
        });
      } catch (error) {
        fail(error);
        entry.resume();
      }
    });
    input.pipe(gunzip);
  });
}

/** The entry's folder (the bundle's one top-level folder) and its path inside it, or a refusal that says which rule it breaks. */
function entryPath(entry: ReadEntry, top: string | undefined): { top: string; inside: string } {
  const raw = entry.path;
  const what = `"${raw}"`;
  if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'Directory') {
    const kind = entry.type === 'SymbolicLink' || entry.type === 'Link' ? `a ${entry.type === 'Link' ? 'hard ' : 'symbolic '}link to "${entry.linkpath ?? ''}"` : `a ${entry.type}`;
    throw new BundleError(`${what} is ${kind}: a bundle holds only files and folders`);
  }
  if (raw.includes('\0') || raw.includes('\\')) throw new BundleError(`${what}: a bundle path has no "\\" or NUL characters`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw new BundleError(`${what} is an absolute path: a bundle's paths stay inside its folder`);
  const parts = raw.replace(/\/+$/, '').split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new BundleError(`${what} climbs out with "..": a bundle's paths stay inside its folder`);
  if (parts.length === 0) throw new BundleError(`${what} is not a path inside the bundle's folder`);
  const [first, ...rest] = parts as [string, ...string[]];
  if (top !== undefined && first !== top) throw new BundleError(`${what} is outside the bundle's folder "${top}/": a bundle holds one folder`);
  const inside = posix.join(...(rest.length > 0 ? rest : ['.']));
  if (entry.type === 'Directory') return { top: first, inside };
  if (rest.length === 0) throw new BundleError(`${what} is a file outside the bundle's folder: a bundle holds one folder`);
  if (rest.some((part) => part.startsWith('.'))) throw new BundleError(`${what} is a hidden file: a bundle carries only the manifest and audio`);
  if (!allowedBundleFile(inside)) {
    throw new BundleError(`${what} is not a file type a collection holds (only ${BUNDLE_INFO_FILE}, ${CHECKSUMS_FILE}, the manifest and audio a manifest may name)`);
  }
  return { top: first, inside };
}

function parseInfo(text: string): BundleInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BundleError(`${BUNDLE_INFO_FILE} is not JSON: the bundle is damaged; export it again`);
  }
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version > BUNDLE_FORMAT_VERSION) {
    throw new BundleError(`it was made by a newer Hedgerow (bundle format ${version}, this box reads ${BUNDLE_FORMAT_VERSION}): update this box, then import again`);
  }
  const parsed = bundleInfo.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BundleError(`${BUNDLE_INFO_FILE}: ${issue.path.join('.') || '(top level)'}: ${issue.message}; this is not a bundle from \`hedgerow box export\``);
  }
  return parsed.data;
}

/** Checks what was unpacked against its checksums, bundle.json and the manifest. */
async function verify(unpacked: Unpacked, root: string): Promise<BundleInfo> {
  const { files, info } = unpacked;
  if (!info) throw new BundleError(`it has no ${BUNDLE_INFO_FILE}: it is not a bundle from \`hedgerow box export\``);
  if (!files.has(CHECKSUMS_FILE)) throw new BundleError(`it has no ${CHECKSUMS_FILE}, so its files cannot be checked: export it again`);
  const sums = parseChecksums(await readFile(join(root, CHECKSUMS_FILE), 'utf8'));
  for (const [path, sum] of sums) {
    const file = files.get(path);
    if (!file) throw new BundleError(`${CHECKSUMS_FILE} lists ${path}, which the bundle lacks: export it again`);
    if (file.sha256 !== sum) throw new BundleError(`${path} does not match its checksum: the bundle was damaged or changed on the way; export it again`);
  }
  const unlisted = [...files.keys()].filter((path) => path !== CHECKSUMS_FILE && !sums.has(path));
  if (unlisted.length > 0) throw new BundleError(`${unlisted.join(', ')} ${unlisted.length === 1 ? 'is' : 'are'} not in ${CHECKSUMS_FILE}: the bundle was changed after export`);
  const manifests = MANIFEST_NAMES.filter((name) => files.has(name));
  if (manifests.length !== 1) throw new BundleError(manifests.length === 0 ? 'it has no manifest (manifest.yaml)' : `it has ${manifests.length} manifests (${manifests.join(', ')}); a collection has one`);
  let collection;
  try {
    collection = await loadCollection(root);
  } catch (error) {
    if (error instanceof CollectionError) throw new BundleError(`its manifest has problems:\n${error.problems.map((p) => `  - ${p}`).join('\n')}`);
    throw error;
  }
  const missing = collection.namedAudioFiles.map((file) => relative(root, file).split(sep).join('/')).filter((path) => !files.has(path));
  if (missing.length > 0) throw new BundleError(`the manifest names ${missing.join(', ')}, which the bundle lacks: export it again from a complete collection (\`hedgerow box list\` shows the gaps)`);
  const carried = [...files].filter(([path]) => path !== BUNDLE_INFO_FILE && path !== CHECKSUMS_FILE);
  const totalBytes = carried.reduce((sum, [, file]) => sum + file.size, 0);
  const mismatch = [
    info.objectCount !== collection.objects.length && `${info.objectCount} objects (the manifest has ${collection.objects.length})`,
    info.version !== collection.version && `version ${info.version} (the manifest says ${collection.version})`,
    info.fileCount !== carried.length && `${info.fileCount} files (it holds ${carried.length})`,
    info.totalBytes !== totalBytes && `${info.totalBytes} bytes (its files hold ${totalBytes})`,
  ].filter(Boolean);
  if (mismatch.length > 0) throw new BundleError(`${BUNDLE_INFO_FILE} says ${mismatch.join(', ')}: the bundle was changed after export`);
  return info;
}

/** A read or gunzip failure, in words: a cut-short download and a file that is no bundle are the usual ones. */
function readProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR') return 'it ends too early (cut short while copying?): copy it again';
  if (code === 'Z_DATA_ERROR') return `it is not a gzip-compressed tar (${basename(String((error as Error).message))}): a bundle is the .tar.gz \`hedgerow box export\` writes`;
  if (code === 'TAR_ENTRY_INVALID' || code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ABORT') return `not a readable tar archive (${(error as Error).message})`;
  return error instanceof Error ? error.message : String(error);
}

/** What `hedgerow box import` prints. */
export function importSummary({ dir, info }: ImportResult): string[] {
  const name = basename(dir);
  return [
    `Imported "${info.title}" (version ${info.version}, ${info.languages.join('/')}): ${info.objectCount} objects, ${byteSize(info.totalBytes)} → ${dir}`,
    `An admin tag with the action collection:${name} switches the box to it (next-collection reaches it too).`,
  ];
}
