import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_CONTENT_TYPE, publicCollectionPath, publishPath } from '../../../device/collection-exchange.ts';
import { exportCollection } from '../../../device/museum-bundle-export.ts';
import type { AccessKey } from '../../../cloud/api/api-settings.ts';
import { writeSchoolCollection } from '../../fixtures/collection-bundles.ts';
import { TEST_KEY } from './helpers.ts';

/**
 * For the exchange tests: real bundles exported from the "school" collection (real WAV and MP3 files) at
 * any manifest version, and publish calls signed by the AWS SDK's own signer, as a box signs them.
 */

export const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let exports = 0;

/**
 * Exports the school collection at `version` into `root`. Another `exportedAt` changes bundle.json, so
 * the same version with other bytes; `title` replaces the manifest's.
 */
export async function schoolBundle(
  root: string, version: number, options: { exportedAt?: number; title?: string } = {},
): Promise<{ file: string; bytes: Buffer; totalBytes: number }> {
  const exportedAt = options.exportedAt ?? Date.UTC(2026, 11, 7, 9, 30);
  const dir = join(root, `src-${exports++}`, 'school');
  mkdirSync(dir, { recursive: true });
  writeSchoolCollection(dir);
  const manifest = readFileSync(join(dir, 'manifest.yaml'), 'utf8').replace('version: 4', `version: ${version}`);
  writeFileSync(join(dir, 'manifest.yaml'), options.title === undefined ? manifest : manifest.replace('title: School museum', `title: ${JSON.stringify(options.title)}`));
  const file = join(root, `school-${exports++}.tar.gz`);
  const result = await exportCollection({ collection: dir, file, now: () => exportedAt });
  return { file, bytes: readFileSync(file), totalBytes: result.info.totalBytes };
}

export interface Answer {
  status: number;
  errorType: string | undefined;
  body: Record<string, unknown>;
  headers: Headers;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  return { status: response.status, errorType: response.headers.get('x-amzn-errortype') ?? undefined, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: response.headers };
}

export interface PublishCall {
  /** Default: the SHA-256 of `bytes`. */
  sha256?: string;
  key?: AccessKey;
  /** Send without any signature. */
  unsigned?: boolean;
}

/** Headers of a signed PUT of `bytes` to `url` (the SDK signer, x-amz-content-sha256 signed), without content-length. */
export async function publishHeaders(url: URL, bytes: Buffer, call: PublishCall = {}): Promise<Record<string, string>> {
  const headers: Record<string, string> = { host: url.host, 'content-type': BUNDLE_CONTENT_TYPE };
  if (call.sha256 !== '') headers['x-amz-content-sha256'] = call.sha256 ?? sha256Of(bytes);
  if (call.unsigned) return headers;
  const signer = new SignatureV4({ credentials: call.key ?? TEST_KEY, region: 'eu-west-1', service: 'iotanalytics', sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign({ method: 'PUT', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers });
  return signed.headers as Record<string, string>;
}

export async function publish(endpoint: string, name: string, bytes: Buffer, call: PublishCall = {}): Promise<Answer> {
  const url = new URL(publishPath(name), endpoint);
  const headers = await publishHeaders(url, bytes, call);
  delete headers.host;
  return answerOf(await fetch(url, { method: 'PUT', headers, body: new Uint8Array(bytes), signal: AbortSignal.timeout(60_000) }));
}

export async function unpublish(endpoint: string, name: string): Promise<Answer> {
  const url = new URL(publishPath(name), endpoint);
  const signer = new SignatureV4({ credentials: TEST_KEY, region: 'eu-west-1', service: 'iotanalytics', sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign({ method: 'DELETE', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host } });
  const headers = { ...(signed.headers as Record<string, string>) };
  delete headers.host;
  return answerOf(await fetch(url, { method: 'DELETE', headers, signal: AbortSignal.timeout(30_000) }));
}

export async function getJson(endpoint: string, path: string): Promise<Answer> {
  return answerOf(await fetch(new URL(path, endpoint), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) }));
}

/** The listing's collections, or the single collection's description. */
export async function listing(endpoint: string): Promise<Record<string, unknown>[]> {
  return (await getJson(endpoint, '/public/collections')).body.collections as Record<string, unknown>[];
}

export async function described(endpoint: string, name: string): Promise<Answer> {
  return getJson(endpoint, publicCollectionPath(name));
}

export async function download(url: string): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}
