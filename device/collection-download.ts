/**
 * Downloads from the collection exchange: a public collection URL answers a publishedCollection (JSON),
 * a bundle URL the bundle itself. A bundle goes to a hidden file in the collections folder, named as an
 * import in progress so a killed download is cleared like a killed import, and is capped at
 * MAX_PUBLISHED_BUNDLE_BYTES twice: on the declared content-length and on the bytes as they arrive.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { collectionListing, MAX_PUBLISHED_BUNDLE_BYTES, publishedCollection, type PublishedCollection } from './collection-exchange.ts';
import { errorAnswer, ExchangeError, unreachable } from './exchange-errors.ts';
import { byteSize } from './museum-bundle-format.ts';
import { TEMP_PREFIX } from './museum-bundle-import.ts';

/** How long the engine has to start answering; a bundle's bytes then have undici's own idle limit between chunks. */
const ANSWER_TIMEOUT_MS = 60_000;

/** What a URL gives: a published collection's description, or a bundle to download. */
export type CollectionAnswer = { kind: 'collection'; published: PublishedCollection } | { kind: 'bundle'; response: Response };

export async function openCollectionUrl(url: string): Promise<CollectionAnswer> {
  const response = await get(url);
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) return { kind: 'bundle', response };
  const body: unknown = await response.json().catch(() => undefined);
  const parsed = publishedCollection.safeParse(body);
  if (parsed.success) return { kind: 'collection', published: parsed.data };
  const listing = collectionListing.safeParse(body);
  if (listing.success) {
    const names = listing.data.collections.map((c) => c.name);
    throw new ExchangeError(`${url} is the list of published collections${names.length ? ` (${names.join(', ')})` : ', and it is empty'}: give one collection's URL, ${url.replace(/\/+$/, '')}/NAME`);
  }
  throw new ExchangeError(`${url} answered JSON that is not a published collection (${parsed.error.issues[0]!.message}): give a URL that \`hedgerow box publish\` printed`);
}

/** The latest version a collection URL names (the follower asks this). */
export async function lookUpPublished(url: string): Promise<PublishedCollection> {
  const answer = await openCollectionUrl(url);
  if (answer.kind === 'collection') return answer.published;
  await answer.response.body?.cancel();
  throw new ExchangeError(`${url} is a bundle, not a collection: follow the collection's URL (…/public/collections/NAME), which names its latest version`);
}

export interface DownloadOptions {
  /** A folder on the disk the collection goes to: the collections folder. */
  dir: string;
  /** SHA-256 the bytes must have, when the collection's description gave it. */
  sha256?: string;
  /** Default MAX_PUBLISHED_BUNDLE_BYTES. */
  maxBytes?: number;
}

export interface Downloaded {
  file: string;
  sha256: string;
  bytes: number;
}

/** Streams a bundle to a hidden file in `dir`; on any failure the file is gone. The caller removes it once used. */
export async function downloadBundle(source: string | Response, options: DownloadOptions): Promise<Downloaded> {
  const response = typeof source === 'string' ? await get(source) : source;
  const url = response.url || String(source);
  const maxBytes = options.maxBytes ?? MAX_PUBLISHED_BUNDLE_BYTES;
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new ExchangeError(`${url} is ${byteSize(declared)}, more than a box downloads (${byteSize(maxBytes)}): ask its publisher to split the collection`);
  }
  if (!response.body) throw new ExchangeError(`${url} answered without a body: try again later`);
  const file = join(options.dir, `${TEMP_PREFIX}${process.pid}-download-${randomBytes(6).toString('hex')}.tar.gz`);
  const hash = createHash('sha256');
  let bytes = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) return done(new ExchangeError(`${url} sent more than a box downloads (${byteSize(maxBytes)}): ask its publisher to split the collection`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), counted, createWriteStream(file, { flags: 'wx' }));
  } catch (error) {
    await rm(file, { force: true });
    if (error instanceof ExchangeError) throw error;
    throw new ExchangeError(`the download of ${url} broke off after ${byteSize(bytes)} (${(error as Error).message}): try again`);
  }
  const sha256 = hash.digest('hex');
  if (options.sha256 !== undefined && sha256 !== options.sha256) {
    await rm(file, { force: true });
    throw new ExchangeError(`${url} does not match the published SHA-256 (got ${sha256.slice(0, 12)}…, expected ${options.sha256.slice(0, 12)}…): it was damaged or changed on the way; try again, and tell the engine's operator if it persists`);
  }
  return { file, sha256, bytes };
}

async function get(url: string): Promise<Response> {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new ExchangeError(`"${url}" is not an http(s) URL: give the collection's URL as \`hedgerow box publish\` printed it`);
  let response: Response;
  // Only the wait for the answer's head is timed: a signal's abort would also cut a long bundle's body.
  const waiting = new AbortController();
  const timer = setTimeout(() => waiting.abort(new Error(`no answer in ${ANSWER_TIMEOUT_MS / 1000} s`)), ANSWER_TIMEOUT_MS);
  try {
    response = await fetch(url, { headers: { accept: 'application/json, application/gzip;q=0.9' }, signal: waiting.signal });
  } catch (error) {
    throw unreachable(url, error, 'check the URL');
  } finally {
    clearTimeout(timer);
  }
  if (response.ok) return response;
  const { type, message } = await errorAnswer(response);
  const said = `${url} answered ${response.status} ${type}: ${message}`;
  if (response.status === 404) throw new ExchangeError(`${said}: check the URL (the engine's /public/collections lists what it has)`);
  throw new ExchangeError(`${said}: try again later, or tell the engine's operator`);
}
