/**
 * The folder of collections a box can switch between with admin tags: every sub-folder holding a
 * manifest is one collection, in name order.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { findManifest, insideFolder } from './museum-collection.ts';
import type { MuseumSettings } from './museum-settings.ts';

/** The box's collections folder: museum.collectionsDir, else the folder around museum.collection. */
export function collectionsDirOf(settings: Pick<MuseumSettings, 'collection' | 'collectionsDir'>): string {
  return settings.collectionsDir ?? dirname(resolve(settings.collection));
}

export async function collectionFolders(collectionsDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(collectionsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => resolve(collectionsDir, entry.name))
    .filter((dir) => findManifest(dir) !== null)
    .sort();
}

/** The collection after `current` in name order, wrapping round; null when there is none. */
export async function nextCollectionFolder(collectionsDir: string, current: string): Promise<string | null> {
  const folders = await collectionFolders(collectionsDir);
  if (folders.length === 0) return null;
  const index = folders.indexOf(resolve(current));
  return folders[(index + 1) % folders.length] ?? null;
}

/** The collection folder called `name`, or null when there is none (or the name climbs out). */
export function namedCollectionFolder(collectionsDir: string, name: string): string | null {
  const folder = insideFolder(resolve(collectionsDir), name);
  if (folder === null || findManifest(folder) === null) return null;
  return join(folder);
}
