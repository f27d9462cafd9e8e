/**
 * `hedgerow box list`: what a collection holds, with every audio file the manifest names but the
 * folder lacks flagged, so a teacher finds the gap before the children do.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { AUDIO_EXTENSIONS, loadCollection, type AdminAction } from './museum-collection.ts';
import { ORIGINAL_MARK } from './museum-story.ts';

export interface ListedObject {
  uid: string | null;
  id: string | null;
  title: string;
  audio: string;
  missing: boolean;
  /** The story in other languages. */
  translations: { language: string; audio: string; missing: boolean }[];
}

export interface CollectionListing {
  dir: string;
  manifestPath: string;
  title: string;
  objects: ListedObject[];
  admin: { uid: string; action: AdminAction }[];
  /** Audio files in the folder that no manifest entry names (NDEF tags may still play them). */
  otherAudio: string[];
  missingCount: number;
}

export async function listCollection(options: { collection: string }): Promise<CollectionListing> {
  const collection = await loadCollection(options.collection);
  const objects = collection.objects.map((o) => ({
    uid: o.uid ?? null,
    id: o.id ?? null,
    title: o.title,
    audio: o.audio,
    missing: !existsSync(o.audioFile),
    translations: Object.entries(o.translations ?? {}).map(([language, story]) => ({
      language,
      audio: story.audio,
      missing: !existsSync(join(collection.dir, story.audio)),
    })),
  }));
  const named = new Set(collection.objects.flatMap((o) => [...o.stories.values()].map((file) => relative(collection.dir, file))));
  const files = await readdir(collection.dir);
  const otherAudio = files
    // Originals (`<name>.original.wav`) are kept for the record, not played.
    .filter((f) => AUDIO_EXTENSIONS.some((e) => f.toLowerCase().endsWith(`.${e}`)) && !f.toLowerCase().includes(`${ORIGINAL_MARK}.`) && !named.has(f))
    .sort();
  return {
    dir: collection.dir,
    manifestPath: collection.manifestPath,
    title: collection.title,
    objects,
    admin: collection.manifest.admin.map((a) => ({ uid: a.uid, action: a.action })),
    otherAudio,
    missingCount: objects.reduce((count, o) => count + (o.missing ? 1 : 0) + o.translations.filter((t) => t.missing).length, 0),
  };
}

/** The listing as lines for the terminal. */
export function formatCollectionListing(listing: CollectionListing): string[] {
  const lines = [`${listing.title} (${listing.manifestPath})`];
  if (listing.objects.length === 0) lines.push('  no objects yet: add one with `hedgerow box assign`');
  const uidWidth = Math.max(3, ...listing.objects.map((o) => (o.uid ?? '').length));
  const titleWidth = Math.max(5, ...listing.objects.map((o) => o.title.length));
  for (const o of listing.objects) {
    const key = (o.uid ?? '-').padEnd(uidWidth);
    const id = o.id ? `  id ${o.id}` : '';
    lines.push(`  ${key}  ${o.title.padEnd(titleWidth)}  ${o.audio}${o.missing ? '  MISSING' : ''}${id}`);
    for (const t of o.translations) lines.push(`  ${' '.repeat(uidWidth)}  ${`(${t.language})`.padEnd(titleWidth)}  ${t.audio}${t.missing ? '  MISSING' : ''}`);
  }
  if (listing.admin.length > 0) {
    lines.push('admin tags:');
    for (const a of listing.admin) lines.push(`  ${a.uid}  ${a.action}`);
  }
  if (listing.otherAudio.length > 0) lines.push(`other audio files (NDEF tags can name them): ${listing.otherAudio.join(', ')}`);
  if (listing.missingCount > 0) {
    lines.push(
      `${listing.missingCount} audio file${listing.missingCount === 1 ? '' : 's'} missing: copy ${listing.missingCount === 1 ? 'it' : 'them'} into ${listing.dir}, or assign the tag again with \`hedgerow box assign\``,
    );
  }
  return lines;
}

/** `hedgerow box list`: prints the listing; false when an audio file is missing (the CLI exits 1). */
export async function runBoxList(options: { collection: string; print: (line: string) => void }): Promise<boolean> {
  const listing = await listCollection(options);
  for (const line of formatCollectionListing(listing)) options.print(line);
  return listing.missingCount === 0;
}
