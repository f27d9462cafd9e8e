/**
 * `hedgerow box fetch URL [--as NAME] [--follow]`: installs a published collection on this box. The URL
 * is a public collection's (its description names the bundle and its SHA-256) or a bundle's. The bundle is
 * downloaded beside the collections, checked against the SHA-256 when known, and imported as
 * `hedgerow box import` would; with --follow the installed folder keeps a source file the follower reads
 * (collection-source.ts). Any failure leaves the collections folder as it was.
 */
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { PublishedCollection } from './collection-exchange.ts';
import { downloadBundle, openCollectionUrl } from './collection-download.ts';
import { SOURCE_FILE, sourceFileText } from './collection-source.ts';
import { ExchangeError } from './exchange-errors.ts';
import { BundleError, byteSize } from './museum-bundle-format.ts';
import { importBundle, type ImportResult } from './museum-bundle-import.ts';

export interface FetchOptions {
  url: string;
  collectionsDir: string;
  as?: string;
  follow?: boolean;
  /** Epoch ms, for the source file's installedAt. */
  now?: () => number;
  /** Default MAX_PUBLISHED_BUNDLE_BYTES. */
  maxBytes?: number;
}

export interface FetchResult extends ImportResult {
  sha256: string;
  /** The collection's description, when the URL was a collection's (not a bundle's). */
  published: PublishedCollection | null;
  followed: boolean;
}

export async function fetchCollection(options: FetchOptions): Promise<FetchResult> {
  const collectionsDir = resolve(options.collectionsDir);
  const createdDir = await mkdir(collectionsDir, { recursive: true });
  try {
    const answer = await openCollectionUrl(options.url);
    if (answer.kind === 'bundle' && options.follow) {
      await answer.response.body?.cancel();
      throw new ExchangeError(`--follow needs the collection's URL (…/public/collections/NAME), not a bundle's: a bundle is one version, the collection's URL names the latest`);
    }
    const published = answer.kind === 'collection' ? answer.published : null;
    const installed = await installBundle({
      bundle: published?.bundleUrl ?? (answer.kind === 'bundle' ? answer.response : options.url),
      sha256: published?.sha256,
      url: options.url,
      collectionsDir,
      ...(options.as === undefined ? {} : { as: options.as }),
      source: options.follow && published ? { url: options.url, version: published.version } : undefined,
      now: options.now ?? Date.now,
      replace: false,
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    });
    return { ...installed, published, followed: options.follow === true };
  } catch (error) {
    if (createdDir) await removeCreated(collectionsDir, createdDir);
    throw error;
  }
}

/** The folders mkdir made for this fetch, deepest first, each only if still empty. */
async function removeCreated(dir: string, createdDir: string): Promise<void> {
  for (let folder = dir; folder.startsWith(createdDir); folder = dirname(folder)) {
    if (!(await rmdir(folder).then(() => true, () => false)) || folder === createdDir) return;
  }
}

export interface InstallOptions {
  /** The bundle's URL, or an answer already carrying it. */
  bundle: string | Response;
  sha256: string | undefined;
  /** The URL the user gave, for messages. */
  url: string;
  collectionsDir: string;
  as?: string;
  /** Written as the installed folder's source file: the followed URL and the version it gives. */
  source: { url: string; version: number } | undefined;
  now: () => number;
  /** Swap it in over the installed collection of that name (the follower's update). */
  replace: boolean;
  maxBytes?: number;
}

/** Downloads, checks and imports one bundle; the download is removed whatever happens. */
export async function installBundle(options: InstallOptions): Promise<ImportResult & { sha256: string }> {
  const download = await downloadBundle(options.bundle, {
    dir: options.collectionsDir,
    ...(options.sha256 === undefined ? {} : { sha256: options.sha256 }),
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
  });
  try {
    const hiddenFiles = options.source
      ? new Map([[SOURCE_FILE, sourceFileText({ ...options.source, sha256: download.sha256, installedAt: new Date(options.now()).toISOString() })]])
      : undefined;
    const result = await importBundle({
      file: download.file,
      shownAs: options.url,
      collectionsDir: options.collectionsDir,
      replace: options.replace,
      ...(options.as === undefined ? {} : { as: options.as }),
      ...(hiddenFiles ? { hiddenFiles } : {}),
    });
    return { ...result, sha256: download.sha256 };
  } catch (error) {
    if (error instanceof BundleError) throw new ExchangeError(error.message);
    throw error;
  } finally {
    await rm(download.file, { force: true });
  }
}

/** What `hedgerow box fetch` prints. */
export function fetchSummary(result: FetchResult): string[] {
  const { dir, info, followed, published } = result;
  const name = basename(dir);
  const lines = [
    `Installed "${info.title}" (version ${info.version}, ${info.languages.join('/')}): ${info.objectCount} objects, ${byteSize(info.totalBytes)} → ${dir}`,
    `An admin tag with the action collection:${name} switches the box to it (next-collection reaches it too).`,
  ];
  if (followed && published) lines.push(`Following ${published.name}: the box picks up new versions by itself (\`hedgerow box unfollow ${name}\` stops it).`);
  return lines;
}
