import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  BUNDLE_CONTENT_TYPE, EXCHANGE_SIGNING_SERVICE, MAX_PUBLISHED_BUNDLE_BYTES, PUBLIC_COLLECTIONS_PREFIX, PUBLISH_PREFIX,
  publicBundlePath, publicCollectionPath, publishAnswer, publishedCollection, type PublishedCollection,
} from '../../device/collection-exchange.ts';
import { collectionName } from '../../device/museum-bundle-format.ts';
import { collectionsPage, collectionsPageHeaders } from '../dashboard/collections-html.ts';
import { InvalidRequestException, ResourceNotFoundException } from '../engine/errors.ts';
import type { PublishedCollectionRecord } from '../storage/published-collection-record.ts';
import { ApiError } from './api-errors.ts';
import { publishBundle, removeStaleIncoming, type PublishSettings } from './collection-publish.ts';

/**
 * The collection exchange (device/collection-exchange.ts is the contract): a box publishes a bundle with
 * a signed PUT and may DELETE it; anyone lists and downloads published collections without a signature,
 * as JSON, or as a page for a browser. The PUT has its own body handling: the bundle is streamed, never
 * buffered by the API's catch-all parser, and capped at maxBundleBytes rather than api.bodyLimitBytes.
 */

export interface CollectionRouteOptions extends Omit<PublishSettings, 'maxBundleBytes'> {
  /** Largest bundle taken. Default MAX_PUBLISHED_BUNDLE_BYTES. */
  maxBundleBytes?: number;
  /** Checks a signed call and gives its access key id; with `payloadHash`, the signature is checked against it. */
  authenticate: (request: FastifyRequest, service: string, payloadHash?: string) => string;
  /** The absolute URL of a path, as the API's other links are built (api.publicUrl, else the request's host). */
  absoluteUrl: (request: FastifyRequest) => (path: string) => string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** A version in a path: a positive integer as the manifest has it, no sign, exponent or leading zero. */
const pathVersion = z.string().regex(/^[1-9]\d{0,9}$/, 'a version is a whole number from 1, as in the manifest').transform(Number);

function parsedName(raw: string): string {
  const parsed = collectionName.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new InvalidRequestException(`"${raw.slice(0, 128)}" is not a collection name (${parsed.error.issues[0]!.message}): use the name bundle.json gives, as the listing at ${PUBLIC_COLLECTIONS_PREFIX} shows it.`);
}

function parsedVersion(raw: string): number {
  const parsed = pathVersion.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new InvalidRequestException(`"${raw.slice(0, 20)}" is not a collection version (${parsed.error.issues[0]!.message}): use one the collection's description gives.`);
}

const unknownCollection = (name: string) =>
  new ResourceNotFoundException(`No published collection is named ${name}; the list at ${PUBLIC_COLLECTIONS_PREFIX} shows the published ones.`);

/** The public view of a stored version: who published it stays in the store. */
function toPublic(record: PublishedCollectionRecord, url: (path: string) => string): PublishedCollection {
  const { publishedBy: _publishedBy, publishedAt, ...rest } = record;
  return publishedCollection.parse({ ...rest, publishedAt: new Date(publishedAt).toISOString(), bundleUrl: url(publicBundlePath(record.name, record.version)) });
}

function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply.code(status).type('application/json').send(JSON.stringify(value));
}

export async function registerCollectionRoutes(app: FastifyInstance, options: CollectionRouteOptions): Promise<void> {
  const { store, authenticate, absoluteUrl } = options;
  const settings: PublishSettings = { ...options, maxBundleBytes: options.maxBundleBytes ?? MAX_PUBLISHED_BUNDLE_BYTES };
  // File times are the wall clock's, whatever clock the API was given.
  await removeStaleIncoming(options.incomingDir, Date.now());

  // Not awaited: the plugin loads when the app is ready, after buildApp set the error handler, which it then inherits.
  void app.register(async (publishing) => {
    // This context alone hands the body over as the raw stream: publishBundle reads it to disk.
    publishing.removeAllContentTypeParsers();
    publishing.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    publishing.put(`${PUBLISH_PREFIX}/:name`, async (request, reply) => {
      const body = (request.body as Readable | undefined) ?? request.raw;
      try {
        const declared = request.headers['x-amz-content-sha256'];
        const sha256 = typeof declared === 'string' ? declared.trim() : '';
        if (!SHA256_HEX.test(sha256)) {
          // An unsigned call is refused as every unsigned call is, before anything about the body.
          if (request.headers.authorization === undefined) authenticate(request, EXCHANGE_SIGNING_SERVICE);
          throw new InvalidRequestException(
            `A publish needs x-amz-content-sha256: the bundle's SHA-256 in lower-case hex, signed (got ${sha256 === '' ? 'none' : `"${sha256.slice(0, 70)}"`}); `
            + 'UNSIGNED-PAYLOAD is not taken, because the engine checks the streamed bundle against it. `hedgerow box publish` sets it.',
          );
        }
        const publishedBy = authenticate(request, EXCHANGE_SIGNING_SERVICE, sha256);
        const name = parsedName((request.params as { name: string }).name);
        const length = request.headers['content-length'];
        const outcome = await publishBundle(settings, { name, body, sha256, declaredBytes: length === undefined ? undefined : Number(length), publishedBy });
        if (outcome.kind === 'conflict') {
          const what = outcome.reason === 'same-version' ? 'is already published with other bytes' : 'is older than the latest published';
          throw new ApiError(
            'ConflictException',
            `Collection ${name} version ${outcome.version} ${what} (the latest is version ${outcome.latest.version}): `
            + `raise the manifest's version above ${outcome.latest.version} (\`hedgerow box assign\` does), export and publish again.`,
          );
        }
        const answer = publishAnswer.parse({ collection: toPublic(outcome.collection, absoluteUrl(request)), created: outcome.kind === 'created' });
        return sendJson(reply, outcome.kind === 'created' ? 201 : 200, answer);
      } catch (error) {
        // Part of the body may still be on its way: close the connection after the answer instead of reading it all.
        if (!body.readableEnded) reply.header('connection', 'close');
        throw error;
      }
    });
  });

  app.delete(`${PUBLISH_PREFIX}/:name`, async (request, reply) => {
    authenticate(request, EXCHANGE_SIGNING_SERVICE);
    const name = parsedName((request.params as { name: string }).name);
    if ((await store.deletePublishedCollection(name)) === 0) throw unknownCollection(name);
    return reply.code(204).send();
  });

  app.get(PUBLIC_COLLECTIONS_PREFIX, async (request, reply) => {
    const url = absoluteUrl(request);
    const collections = (await store.listPublishedCollections()).map((record) => toPublic(record, url));
    if ((request.headers.accept ?? '').includes('text/html')) {
      return reply.headers(collectionsPageHeaders).send(collectionsPage(collections, (c) => url(publicCollectionPath(c.name))));
    }
    return sendJson(reply, 200, { collections });
  });

  app.get(`${PUBLIC_COLLECTIONS_PREFIX}/:name`, async (request, reply) => {
    const name = parsedName((request.params as { name: string }).name);
    const latest = await store.publishedCollection(name);
    if (!latest) throw unknownCollection(name);
    return sendJson(reply, 200, toPublic(latest, absoluteUrl(request)));
  });

  app.get(`${PUBLIC_COLLECTIONS_PREFIX}/:name/versions/:version/bundle.tar.gz`, async (request, reply) => {
    const params = request.params as { name: string; version: string };
    const name = parsedName(params.name);
    const version = parsedVersion(params.version);
    const record = await store.publishedCollection(name, version);
    const bundle = record && (await store.openPublishedBundle(name, version));
    if (!record || !bundle) {
      if (!(await store.publishedCollection(name))) throw unknownCollection(name);
      throw new ResourceNotFoundException(`Collection ${name} has no published version ${version} (the engine keeps the newest ${options.keepVersions}); ${publicCollectionPath(name)} gives the latest.`);
    }
    const etag = `"${record.sha256}"`;
    reply.header('etag', etag).header('cache-control', 'public, max-age=60');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply
      .type(BUNDLE_CONTENT_TYPE)
      .header('content-length', bundle.sizeBytes)
      .header('content-disposition', `attachment; filename="${name.replace(/[^\w.-]/g, '_')}-v${version}.tar.gz"`)
      .send(Readable.from(bundle.chunks()));
  });
}
