/**
 * `hedgerow box publish`: exports the collection to a temporary bundle, signs a PUT of it with the
 * engine's API keys (SigV4, the AWS SDK's own signer) and streams it to the engine, which keeps it for
 * other schools (device/collection-exchange.ts is the contract). The body's SHA-256 is computed first and
 * signed as x-amz-content-sha256, so the engine can check a bundle it streams to disk.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { BUNDLE_CONTENT_TYPE, EXCHANGE_SIGNING_SERVICE, publicCollectionPath, publishAnswer, publishPath, type PublishAnswer } from './collection-exchange.ts';
import { errorAnswer, ExchangeError, unreachable } from './exchange-errors.ts';
import { exportCollection } from './museum-bundle-export.ts';
import { byteSize } from './museum-bundle-format.ts';
import { EXCHANGE_KEY_ENV, type MuseumExchangeSettings } from './museum-settings.ts';

export interface ExchangeKeys {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ExchangeTarget {
  endpoint: string;
  region: string;
  keys: ExchangeKeys;
}

/** Where to publish and with which keys: --endpoint over museum.exchange.endpoint; the config's keys, else the environment's. */
export function exchangeTarget(settings: MuseumExchangeSettings, endpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): ExchangeTarget {
  const url = endpoint ?? settings.endpoint;
  if (url === undefined) throw new ExchangeError('no engine to publish to: set museum.exchange.endpoint in the config (e.g. http://school-server:8780) or give --endpoint URL');
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new ExchangeError(`--endpoint "${url}" is not an http(s) URL: give the engine's API address, e.g. http://school-server:8780`);
  const fromEnv = { accessKeyId: env[EXCHANGE_KEY_ENV.accessKeyId], secretAccessKey: env[EXCHANGE_KEY_ENV.secretAccessKey] };
  const keys = settings.accessKeyId !== undefined && settings.secretAccessKey !== undefined ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } : fromEnv;
  if (!keys.accessKeyId || !keys.secretAccessKey) {
    throw new ExchangeError(
      `no API keys to sign the publish with: set museum.exchange.accessKeyId and secretAccessKey in the config, or ${EXCHANGE_KEY_ENV.accessKeyId} and ${EXCHANGE_KEY_ENV.secretAccessKey}; the engine's operator has them (api.accessKeys, or api-credentials.json in the engine's data folder)`,
    );
  }
  return { endpoint: url, region: settings.region, keys: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey } };
}

export interface PublishOptions {
  collection: string;
  target: ExchangeTarget;
  /** Where the temporary bundle is written; default the system's temp folder. */
  tempDir?: string;
}

export interface PublishResult extends PublishAnswer {
  /** What another school gives `hedgerow box fetch`. */
  publicUrl: string;
}

export async function publishCollection(options: PublishOptions): Promise<PublishResult> {
  const folder = await mkdtemp(join(options.tempDir ?? tmpdir(), 'hedgerow-publish-'));
  try {
    const { file, info } = await exportCollection({ collection: options.collection, file: join(folder, 'bundle.tar.gz'), reproducible: true });
    const [sha256, size] = await Promise.all([fileSha256(file), stat(file).then((s) => s.size)]);
    const url = endpointUrl(options.target.endpoint, publishPath(info.name));
    const response = await signedPut(url, file, sha256, size, options.target);
    if (!response.ok) throw await publishRefusal(response, url, info.version);
    const parsed = publishAnswer.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) throw new ExchangeError(`${url} answered ${response.status} but not with a published collection (${parsed.error.issues[0]!.message}): is the endpoint a Hedgerow engine with published collections?`);
    return { ...parsed.data, publicUrl: endpointUrl(options.target.endpoint, publicCollectionPath(parsed.data.collection.name)).href };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

function endpointUrl(endpoint: string, path: string): URL {
  const base = new URL(endpoint);
  return new URL(`${base.pathname.replace(/\/+$/, '')}${path}`, base);
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function signedPut(url: URL, file: string, sha256: string, size: number, target: ExchangeTarget): Promise<Response> {
  const signer = new SignatureV4({ credentials: target.keys, region: target.region, service: EXCHANGE_SIGNING_SERVICE, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign({
    method: 'PUT',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: {},
    headers: { host: url.host, 'content-type': BUNDLE_CONTENT_TYPE, 'content-length': String(size), 'x-amz-content-sha256': sha256 },
  });
  try {
    return await fetch(url, {
      method: 'PUT',
      headers: signed.headers,
      body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
  } catch (error) {
    throw unreachable(url.origin, error, 'check the endpoint (museum.exchange.endpoint or --endpoint)');
  }
}

async function publishRefusal(response: Response, url: URL, version: number): Promise<ExchangeError> {
  const { type, message } = await errorAnswer(response);
  const said = `the engine refused it (${response.status} ${type}: ${message})`;
  if (response.status === 409) return new ExchangeError(`${said}: raise the version (${version} now): \`hedgerow box assign\` does, or edit version: in the manifest, then publish again`);
  if (response.status === 403) return new ExchangeError(`${said}: check the keys (museum.exchange.accessKeyId / ${EXCHANGE_KEY_ENV.accessKeyId}, as the engine's api.accessKeys has them), museum.exchange.region against the engine's api.region, and this box's clock (\`timedatectl\`)`);
  if (response.status === 413) return new ExchangeError(`${said}: the bundle is too big for the engine; split the collection or use MP3 for long stories`);
  if (response.status === 404) return new ExchangeError(`${said}: ${url.origin} has no collection exchange; check the endpoint, and that the engine is a Hedgerow version with published collections`);
  return new ExchangeError(`${said}: fix what it says, then publish again`);
}

/** What `hedgerow box publish` prints. */
export function publishSummary({ collection, created, publicUrl }: PublishResult): string[] {
  const what = `"${collection.title}" (${collection.name}, version ${collection.version}, ${collection.languages.join('/') || collection.language}): ${collection.objectCount} objects, ${byteSize(collection.bundleBytes)}`;
  return [
    created ? `Published ${what}` : `Already published, unchanged: ${what}`,
    `Another school installs it with: hedgerow box fetch ${publicUrl}`,
    `(add --follow to pick up new versions by itself)`,
  ];
}
