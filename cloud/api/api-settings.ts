import { z } from 'zod';
import { metricsSettings } from './metrics-settings.ts';

/**
 * The REST API's part of the config file (`api:`). Every key has a default. Access keys come from this
 * section or from HEDGEROW_ACCESS_KEY_ID / HEDGEROW_SECRET_ACCESS_KEY; with neither, `startCloud`
 * creates one pair and keeps it in the data folder, so a fresh install still refuses unsigned calls.
 */

/** Where a generated key pair is kept (in cloud.dataDir) when the config and environment give none. */
export const GENERATED_KEYS_FILE = 'api-credentials.json';
/** Port the API listens on by default. */
export const DEFAULT_API_PORT = 8780;
/** Region clients sign for unless api.region says otherwise; the same default as the engine's ARNs. */
export const DEFAULT_API_REGION = 'eu-west-1';
/** IoT Analytics took 100 messages of up to 128 KB each per BatchPutMessage: base64 makes that ~17 MB. */
export const DEFAULT_BODY_LIMIT_BYTES = 20 * 1024 * 1024;

/** One access key pair: the config's entries, the environment's pair and the generated one all parse through it. */
export const accessKey = z
  .object({
    accessKeyId: z.string().regex(/^[A-Za-z0-9]{4,128}$/, 'use 4-128 letters and digits, like AWS access key ids'),
    secretAccessKey: z.string().min(16, 'use at least 16 characters; a long random string is best'),
  })
  .strict();

export const apiSettings = z
  .object({
    /** Port to listen on; 0 picks a free one. Default 8780. */
    port: z.number().int().min(0).max(65535).default(DEFAULT_API_PORT),
    /** Address to bind. Default 127.0.0.1; use 0.0.0.0 to serve other machines. */
    host: z.string().min(1).default('127.0.0.1'),
    /** The only region a signature's credential scope may name, as AWS pins each endpoint to its region. Default eu-west-1. */
    region: z.string().regex(/^[a-z0-9-]{1,32}$/, 'a region looks like eu-west-1').default(DEFAULT_API_REGION),
    /** Access keys whose SigV4 signatures are accepted. Default none (see the environment variables). */
    accessKeys: z.array(accessKey).default([]),
    /** Base URL put in front of dataURI links, e.g. https://weather.example.org. Default: the request's Host. */
    publicUrl: z.url().optional(),
    /** How long a dataURI stays valid. Default 3600 s, as IoT Analytics' presigned URLs. */
    contentUrlTtlSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
    /** Largest request body accepted. Default 20 MiB. */
    bodyLimitBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(DEFAULT_BODY_LIMIT_BYTES),
    /** Allowed clock difference between client and server, in seconds. Default 900 (AWS's 15 minutes). */
    maxClockSkewSeconds: z.number().int().min(1).max(24 * 3600).default(900),
    /** Tag that marks a dataset as public (readable without credentials). Default public=true. */
    publicTag: z
      .object({ key: z.string().min(1).default('public'), value: z.string().min(1).default('true') })
      .strict()
      .prefault({}),
    /** GET /metrics for Prometheus (cloud/api/metrics-settings.ts). Default on, without a token. */
    metrics: metricsSettings.prefault({}),
  })
  .strict();

export type ApiSettings = z.output<typeof apiSettings>;
export type AccessKey = z.output<typeof accessKey>;

/** Configured keys plus the pair from the environment, if both variables are set. */
export function accessKeysFrom(settings: ApiSettings, env: NodeJS.ProcessEnv = process.env): AccessKey[] {
  const keys = [...settings.accessKeys];
  const id = env.HEDGEROW_ACCESS_KEY_ID;
  const secret = env.HEDGEROW_SECRET_ACCESS_KEY;
  if (id && secret) {
    const parsed = accessKey.safeParse({ accessKeyId: id, secretAccessKey: secret });
    if (!parsed.success) {
      throw new Error(
        `HEDGEROW_ACCESS_KEY_ID / HEDGEROW_SECRET_ACCESS_KEY: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    keys.push(parsed.data);
  }
  return keys;
}
