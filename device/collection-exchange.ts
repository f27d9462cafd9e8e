/**
 * The wire contract between a museum box and the school's cloud engine, which is the exchange for
 * published collections. Both sides import it: `hedgerow box publish | fetch | follow` (device/) and the
 * engine's routes (cloud/api/). The bundle itself is museum-bundle-format.ts's.
 *
 *   PUT    /collections/{name}                                  signed (SigV4, the engine's API keys); body: the bundle
 *   DELETE /collections/{name}                                  signed; every version goes
 *   GET    /public/collections                                  open: { collections: [latest version of each] }
 *   GET    /public/collections/{name}                           open: the latest version (PublishedCollection)
 *   GET    /public/collections/{name}/versions/{v}/bundle.tar.gz  open: the bundle's bytes
 *
 * A publish sends the bundle as it is, `content-type: application/gzip`, with `x-amz-content-sha256` set to
 * the body's SHA-256 in hex (signed, as S3 takes it), so the engine can stream a large bundle to disk and
 * check it against the signature. The engine checks the bundle as an import on a box would before it keeps
 * it. The collection's name is bundle.json's `name` and must equal {name}; its version is the manifest's.
 * A version already published with other bytes, or lower than the latest, is refused (409): raise the
 * manifest's version (`hedgerow box assign` does) and publish again. The same bytes again are a no-op.
 */
import { z } from 'zod';
import { BUNDLE_LIMITS, collectionName } from './museum-bundle-format.ts';

/** The SigV4 signing name of the publish calls: the engine's API keys sign them as they sign its other calls. */
export const EXCHANGE_SIGNING_SERVICE = 'iotanalytics';
export const BUNDLE_CONTENT_TYPE = 'application/gzip';
export const PUBLISH_PREFIX = '/collections';
export const PUBLIC_COLLECTIONS_PREFIX = '/public/collections';

/**
 * The largest bundle (compressed bytes) the engine takes and a box downloads. A bundle unpacks to at most
 * BUNDLE_LIMITS.maxBytes; gzip hardly shrinks WAV or MP3, so the same figure bounds the download.
 */
export const MAX_PUBLISHED_BUNDLE_BYTES = BUNDLE_LIMITS.maxBytes;

export function publishPath(name: string): string {
  return `${PUBLISH_PREFIX}/${encodeURIComponent(name)}`;
}

export function publicCollectionPath(name: string): string {
  return `${PUBLIC_COLLECTIONS_PREFIX}/${encodeURIComponent(name)}`;
}

export function publicBundlePath(name: string, version: number): string {
  return `${publicCollectionPath(name)}/versions/${version}/bundle.tar.gz`;
}

/** One published version of a collection, as the public listing and the publish answer give it. */
export const publishedCollection = z
  .object({
    name: collectionName,
    title: z.string().min(1),
    /** The manifest's version. */
    version: z.number().int().positive(),
    /** The collection's default language (the manifest's `language`). */
    language: z.string().min(1),
    /** Every language a story is in. */
    languages: z.array(z.string().min(1)),
    objectCount: z.number().int().nonnegative(),
    /** Bytes of the collection's files once unpacked (bundle.json's totalBytes). */
    totalBytes: z.number().int().nonnegative(),
    /** Bytes of the bundle as downloaded. */
    bundleBytes: z.number().int().positive(),
    /** SHA-256 of the bundle, hex: a box checks its download against it. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** When the engine took this version, ISO 8601 UTC. */
    publishedAt: z.iso.datetime(),
    /** Where the bundle is downloaded from: an absolute URL (the engine's api.publicUrl, else the request's host). */
    bundleUrl: z.url(),
  })
  .strict();
export type PublishedCollection = z.output<typeof publishedCollection>;

export const collectionListing = z.object({ collections: z.array(publishedCollection) }).strict();
export type CollectionListing = z.output<typeof collectionListing>;

/** What a PUT answers: the version kept, and whether this call stored it (false: the same bytes were already there). */
export const publishAnswer = z.object({ collection: publishedCollection, created: z.boolean() }).strict();
export type PublishAnswer = z.output<typeof publishAnswer>;
