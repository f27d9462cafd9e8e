import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ContentRef } from '../engine/engine.ts';

/**
 * Presigned dataset content links, like S3's: the path names the content file, the query carries an
 * expiry and an HMAC-SHA256 over both, so the link works without credentials until it expires and any
 * change to it is refused. The key is derived from the configured secret keys, so links survive a restart
 * and die when the keys are rotated.
 */

export const CONTENT_PATH_PREFIX = '/dataset-content';
const SIGNATURE_HEX = /^[0-9a-f]{64}$/;
const EXPIRES = /^\d{1,12}$/;

export type ContentUrlCheck = { ok: true; ref: ContentRef } | { ok: false; message: string };

export interface ContentUrls {
  /** Server-relative link (path and query) valid for the configured time from now. */
  build(ref: ContentRef): string;
  /** Checks a link's parts as received: decoded path segments and the query. */
  verify(segments: { datasetName: string; versionId: string; entryName: string }, query: Record<string, string | string[]>): ContentUrlCheck;
}

export interface ContentUrlOptions {
  key: Uint8Array;
  ttlSeconds: number;
  now: () => number;
}

/** A link key from the access keys' secrets, or a random one when there are none (links then end with the process). */
export function contentKeyFrom(secrets: readonly string[]): Buffer {
  if (secrets.length === 0) return randomBytes(32);
  return createHmac('sha256', 'hedgerow dataset content links').update([...secrets].sort().join('\n')).digest();
}

export function createContentUrls(options: ContentUrlOptions): ContentUrls {
  const sign = (ref: ContentRef, expires: number) =>
    createHmac('sha256', options.key).update([ref.datasetName, ref.versionId, ref.entryName, String(expires)].join('\n')).digest('hex');

  return {
    build(ref) {
      const expires = Math.floor(options.now() / 1000) + options.ttlSeconds;
      const path = [ref.datasetName, ref.versionId, ref.entryName].map(encodeURIComponent).join('/');
      return `${CONTENT_PATH_PREFIX}/${path}?expires=${expires}&signature=${sign(ref, expires)}`;
    },
    verify(segments, query) {
      const { expires, signature } = query;
      if (typeof expires !== 'string' || typeof signature !== 'string' || !EXPIRES.test(expires) || !SIGNATURE_HEX.test(signature)) {
        return { ok: false, message: 'This link is not a signed dataset content link: call GetDatasetContent for one.' };
      }
      const given = Buffer.from(signature, 'hex');
      const wanted = Buffer.from(sign(segments, Number(expires)), 'hex');
      if (!timingSafeEqual(given, wanted)) {
        return { ok: false, message: 'The link signature does not match (the link was changed): call GetDatasetContent for a fresh one.' };
      }
      if (Number(expires) * 1000 < options.now()) {
        return { ok: false, message: 'Request has expired: dataset content links are valid for a limited time; call GetDatasetContent for a fresh one.' };
      }
      return { ok: true, ref: { ...segments } };
    },
  };
}
