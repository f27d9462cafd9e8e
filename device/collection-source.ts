/**
 * A followed collection: `hedgerow box fetch URL --follow` leaves a hidden file in the installed
 * collection's folder saying where it came from and which version is in. The URL, not the folder name,
 * is what is followed, so a collection installed under another name (--as) is followed all the same.
 * Hidden files never travel: export leaves them out and import refuses them in a bundle.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.ts';
import { publishedCollection } from './collection-exchange.ts';
import { collectionFolders, namedCollectionFolder } from './museum-collections-dir.ts';

export const SOURCE_FILE = '.hedgerow-source.json';

export const collectionSource = z
  .object({
    /** The public collection URL (GET gives the latest publishedCollection). */
    url: z.url(),
    /** The version installed from it. */
    version: publishedCollection.shape.version,
    /** SHA-256 of the bundle it was installed from, hex. */
    sha256: publishedCollection.shape.sha256,
    /** When it was installed, ISO 8601 UTC. */
    installedAt: z.iso.datetime(),
  })
  .strict();
export type CollectionSource = z.output<typeof collectionSource>;

/** A source file that cannot be read back: the follower skips that collection and says how to mend it. */
export class SourceFileError extends Error {
  override readonly name = 'SourceFileError';
}

export function sourceFileText(source: CollectionSource): string {
  return `${JSON.stringify(collectionSource.parse(source), null, 2)}\n`;
}

/** The collection's source, null when it is not followed. */
export async function readSource(dir: string): Promise<CollectionSource | null> {
  const path = join(dir, SOURCE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = collectionSource.safeParse(raw);
  if (!parsed.success) {
    const detail = raw === undefined ? 'not JSON' : parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
    throw new SourceFileError(`${path} is damaged (${detail}): fetch the collection again with --follow, or remove the file to stop following it`);
  }
  return parsed.data;
}

export async function writeSource(dir: string, source: CollectionSource): Promise<void> {
  await writeFileAtomic(join(dir, SOURCE_FILE), sourceFileText(source));
}

/** `hedgerow box unfollow NAME`: what it did, in a line; a name that is no collection here is an error saying what is. */
export async function unfollowCollection(collectionsDir: string, name: string): Promise<string> {
  const dir = namedCollectionFolder(collectionsDir, name);
  if (dir === null) {
    const names = (await collectionFolders(collectionsDir)).map((folder) => basename(folder));
    throw new SourceFileError(`no collection "${name}" in ${collectionsDir}${names.length ? ` (there are: ${names.join(', ')})` : ''}: give the folder name, or --collections DIR`);
  }
  const path = join(dir, SOURCE_FILE);
  const followed = await stat(path).then(() => true, () => false);
  await rm(path, { force: true });
  return followed ? `${name} is no longer followed; the installed version stays.` : `${name} was not followed; nothing changed.`;
}

/** Every collection in the folder that carries a source file, with it (or the reason it cannot be read). */
export async function followedCollections(collectionsDir: string): Promise<{ dir: string; source: CollectionSource | SourceFileError }[]> {
  const followed = [];
  for (const dir of await collectionFolders(collectionsDir)) {
    const source = await readSource(dir).catch((error: unknown) => {
      if (error instanceof SourceFileError) return error;
      throw error;
    });
    if (source !== null) followed.push({ dir, source });
  }
  return followed;
}
