import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BundleError, byteSize } from '../../device/museum-bundle-format.ts';
import { importBundle } from '../../device/museum-bundle-import.ts';
import { loadCollection } from '../../device/museum-collection.ts';
import { InvalidRequestException } from '../engine/errors.ts';
import type { CloudStore } from '../storage/cloud-store.ts';
import type { PublishOutcome } from '../storage/published-collection-record.ts';
import { ApiError } from './api-errors.ts';

/**
 * PUT /collections/{name}'s work once the call is authenticated: the body is streamed to a file of its
 * own while it is hashed and counted (never held in memory), checked against the signed SHA-256, then
 * imported into a throw-away collections folder exactly as a box imports it (museum-bundle-import.ts
 * refuses traversal, links, oversize, checksum mismatches, missing files and a bad manifest). Only a
 * bundle that passes reaches the store, which decides the version rules. The folder always goes.
 */

export type CollectionStore = Pick<
  CloudStore,
  'putPublishedCollection' | 'listPublishedCollections' | 'publishedCollection' | 'openPublishedBundle' | 'deletePublishedCollection'
>;

export interface PublishSettings {
  store: CollectionStore;
  /** Versions kept per collection (cloud.collections.keepVersions). */
  keepVersions: number;
  /** Largest body taken, in bytes. */
  maxBundleBytes: number;
  /** Where each publish gets a folder of its own for the body and its check (in cloud.dataDir: a bundle may be 1 GiB). */
  incomingDir: string;
  now: () => number;
}

export interface PublishInput {
  /** The path's name, already parsed. */
  name: string;
  body: Readable;
  /** The signed x-amz-content-sha256. */
  sha256: string;
  /** The content-length header, when sent. */
  declaredBytes?: number;
  /** The access key id that signed the call. */
  publishedBy: string;
}

const INCOMING_PREFIX = 'publish-';

export function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    'PayloadTooLargeException',
    `The bundle is larger than this engine takes (${byteSize(maxBytes)}): make the collection smaller (MP3 for long stories, or split it), then export and publish again.`,
  );
}

export async function publishBundle(settings: PublishSettings, input: PublishInput): Promise<PublishOutcome> {
  if (input.declaredBytes !== undefined && input.declaredBytes > settings.maxBundleBytes) throw tooLarge(settings.maxBundleBytes);
  await mkdir(settings.incomingDir, { recursive: true });
  const folder = await mkdtemp(join(settings.incomingDir, INCOMING_PREFIX));
  try {
    const file = join(folder, 'bundle.tar.gz');
    const received = await receive(input.body, file, settings.maxBundleBytes);
    if (received.sha256 !== input.sha256) {
      throw new ApiError(
        'InvalidSignatureException',
        `The body's SHA-256 is ${received.sha256}, not the signed x-amz-content-sha256 ${input.sha256}: the bundle changed on the way or the header was computed over other bytes; publish again.`,
      );
    }
    const checked = await checkBundle(file, join(folder, 'check'));
    if (checked.info.name !== input.name) {
      throw new InvalidRequestException(
        `The bundle is the collection "${checked.info.name}" (its bundle.json's name), but it was sent to ${input.name}: publish it to /collections/${encodeURIComponent(checked.info.name)}.`,
      );
    }
    const collection = await loadCollection(checked.dir);
    return await settings.store.putPublishedCollection(
      {
        name: checked.info.name,
        title: checked.info.title,
        version: checked.info.version,
        language: collection.manifest.language,
        languages: checked.info.languages,
        objectCount: checked.info.objectCount,
        totalBytes: checked.info.totalBytes,
        bundleBytes: received.bytes,
        sha256: received.sha256,
        publishedAt: settings.now(),
        publishedBy: input.publishedBy,
      },
      file,
      { keepVersions: settings.keepVersions },
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Imports the bundle as a box would; its refusal becomes the caller's error with the importer's reason. */
async function checkBundle(file: string, collectionsDir: string): ReturnType<typeof importBundle> {
  try {
    return await importBundle({ file, collectionsDir });
  } catch (error) {
    if (!(error instanceof BundleError)) throw error;
    // The importer names the file it read, which is this engine's temporary one: the caller needs only the reason.
    const reason = error.message.replace(`${file} was not imported, nothing was changed: `, '');
    throw new InvalidRequestException(`The bundle was refused, nothing was stored: ${reason}`);
  }
}

/**
 * Writes the body to `file` while hashing and counting it, refusing it past `maxBytes` as the bytes
 * arrive (content-length may be absent or wrong). The request stream is paused, not destroyed, on a
 * refusal, so the answer can still be sent on its connection.
 */
function receive(body: Readable, file: string, maxBytes: number): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file, { flags: 'wx' });
    const hash = createHash('sha256');
    let bytes = 0;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.pause();
      out.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) return fail(tooLarge(maxBytes));
      hash.update(chunk);
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => settled || body.resume());
      }
    };
    const cutShort = () => fail(new InvalidRequestException('The upload ended before the whole bundle arrived (the connection closed); publish again.'));
    body.on('data', onData);
    body.once('end', () => out.end());
    body.once('error', cutShort);
    body.once('close', () => body.readableEnded || cutShort());
    out.once('error', (error) => fail(error));
    out.once('close', () => {
      if (settled || !out.writableFinished) return;
      settled = true;
      resolve({ sha256: hash.digest('hex'), bytes });
    });
  });
}

/** A publish folder older than this was left by an engine that died mid-publish: no upload or check takes a day. */
const STALE_AFTER_MS = 24 * 3600_000;

/**
 * Removes publish folders an engine killed mid-publish left behind. By age, not by process: engines on
 * one folder may run on several machines, whose process ids say nothing here.
 */
export async function removeStaleIncoming(incomingDir: string, now: number): Promise<void> {
  const names = await readdir(incomingDir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(INCOMING_PREFIX)) continue;
    const folder = join(incomingDir, name);
    const modified = await stat(folder).then((s) => s.mtimeMs, () => now);
    if (now - modified > STALE_AFTER_MS) await rm(folder, { recursive: true, force: true });
  }
}
