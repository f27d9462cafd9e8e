import { z } from 'zod';
import { publishedCollection } from '../../device/collection-exchange.ts';

/**
 * A published collection's version as the store keeps it: the exchange's public shape
 * (device/collection-exchange.ts) without its bundleUrl, which depends on who asks, with publishedAt
 * in epoch ms like every time in the store, and who published it (the access key id, never shown publicly).
 */
export const publishedCollectionRecord = publishedCollection
  .omit({ bundleUrl: true, publishedAt: true })
  .extend({
    publishedAt: z.number().int().nonnegative(),
    publishedBy: z.string().min(1),
  })
  .strict();
export type PublishedCollectionRecord = z.output<typeof publishedCollectionRecord>;

/**
 * A row of published_collections as either backend returns it: pg gives bigint columns as strings and
 * jsonb parsed, SQLite gives integers and the languages as JSON text. Parsed into the record, so a row
 * that is not one fails loudly here rather than later in a listing.
 */
export const publishedCollectionRow = z
  .object({
    name: z.string(),
    version: z.coerce.number(),
    title: z.string(),
    language: z.string(),
    languages: z.union([z.string().transform((text): unknown => JSON.parse(text)), z.array(z.string())]),
    object_count: z.coerce.number(),
    total_bytes: z.coerce.number(),
    bundle_bytes: z.coerce.number(),
    sha256: z.string(),
    published_at: z.coerce.number(),
    published_by: z.string(),
  })
  .transform((row) => ({
    name: row.name,
    title: row.title,
    version: row.version,
    language: row.language,
    languages: row.languages,
    objectCount: row.object_count,
    totalBytes: row.total_bytes,
    bundleBytes: row.bundle_bytes,
    sha256: row.sha256,
    publishedAt: row.published_at,
    publishedBy: row.published_by,
  }))
  .pipe(publishedCollectionRecord);

/** The columns of published_collections in the order both backends insert them. */
export const PUBLISHED_COLUMNS = 'name, version, title, language, languages, object_count, total_bytes, bundle_bytes, sha256, published_at, published_by';

export function publishedColumnValues(record: PublishedCollectionRecord): unknown[] {
  return [
    record.name, record.version, record.title, record.language, JSON.stringify(record.languages), record.objectCount,
    record.totalBytes, record.bundleBytes, record.sha256, record.publishedAt, record.publishedBy,
  ];
}

/**
 * What putPublishedCollection did. The version rules of the exchange are decided inside the store's
 * transaction, so two engines publishing the same name at once cannot both add a version.
 */
export type PublishOutcome =
  /** A new version was stored (and versions past keepVersions removed). */
  | { kind: 'created'; collection: PublishedCollectionRecord }
  /** The same version with the same bytes was already there: nothing changed. */
  | { kind: 'unchanged'; collection: PublishedCollectionRecord }
  /** Refused: `version` exists with other bytes (`same-version`), or a higher one is published (`older`). */
  | { kind: 'conflict'; reason: 'same-version' | 'older'; version: number; latest: PublishedCollectionRecord };

/** Decides a publish against the stored latest version and the stored copy of the same version, if any. */
export function publishDecision(
  record: PublishedCollectionRecord,
  latest: PublishedCollectionRecord | undefined,
  sameVersion: PublishedCollectionRecord | undefined,
): Exclude<PublishOutcome, { kind: 'created' }> | undefined {
  if (sameVersion) {
    return sameVersion.sha256 === record.sha256
      ? { kind: 'unchanged', collection: sameVersion }
      : { kind: 'conflict', reason: 'same-version', version: record.version, latest: latest ?? sameVersion };
  }
  if (latest && latest.version > record.version) return { kind: 'conflict', reason: 'older', version: record.version, latest };
  return undefined;
}
