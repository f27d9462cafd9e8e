import { hostname } from 'node:os';
import { z } from 'zod';
import { IOT_CORE } from '../hardware/core/contract.ts';
import { tlsSettings } from '../gateway/tls-settings.ts';
import { storageSetting } from './storage/storage-setting.ts';

/**
 * The engine's part of the config file (`cloud:`). Every key has a default, so `npm start` runs an
 * engine with no file at all. The REST API's keys (port, access keys, content URL lifetime) live in
 * cloud/api/api-settings.ts.
 */

/** Default folder of the engine's SQLite files and dataset content. */
export const DEFAULT_DATA_DIR = 'data/cloud';
/** IoT Core's payload limit (hardware/core/contract.ts); a channel message larger than this is rejected. */
export const MAX_PAYLOAD_BYTES = IOT_CORE.maxPayloadBytes;

/** A `$share` group name: one topic level, no wildcards. */
const SHARE_GROUP = /^[A-Za-z0-9_-]{1,64}$/;

/** One id per worker when they share a group (the broker would otherwise drop the older session), so hostname and pid. */
function defaultClientId(shareGroup: string | undefined): string {
  if (shareGroup === undefined) return 'hedgerow-cloud';
  return `hedgerow-cloud-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`.slice(0, IOT_CORE.maxClientIdBytes);
}

const mqttSettings = z
  .object({
    /** Broker the topic rules subscribe to. Default mqtt://127.0.0.1:1883 (the embedded broker). */
    url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'use mqtt://host:port or mqtts://host:port').default('mqtt://127.0.0.1:1883'),
    /**
     * Client id of the engine's subscription; each worker of a share group needs its own (the broker keeps
     * one session per id). Default hedgerow-cloud, or hedgerow-cloud-<hostname>-<pid> when shareGroup is set;
     * set a fixed one per worker, since the broker keeps queueing a stopped worker's share to its session id.
     */
    clientId: z
      .string()
      .min(1)
      .refine((id) => Buffer.byteLength(id) <= IOT_CORE.maxClientIdBytes, `at most ${IOT_CORE.maxClientIdBytes} bytes`)
      .optional(),
    /**
     * Several engines on one database: subscribe to the rule topics as `$share/<shareGroup>/<filter>`, so the
     * broker gives each message to one worker of the group (mosquitto 2, EMQX, AWS IoT Core; not the embedded
     * broker). deploy/aws/engine-policy.json allows the group hedgerow. Default: unset, plain subscriptions.
     */
    shareGroup: z.string().regex(SHARE_GROUP, 'a share group is letters, digits, - and _ (no /, + or #), e.g. hedgerow').optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Topic filter of the retained status messages that feed device shadows. Default dt/+/+/status. */
    statusTopic: z.string().min(1).default('dt/+/+/status'),
    /** Whether the engine subscribes at all. Default true. */
    enabled: z.boolean().default(true),
    // TLS to the broker (AWS IoT Core, a school's TLS broker): the station uplink's shape.
    /**
     * Server CA, client certificate and key (mutual TLS), ALPN x-amzn-mqtt-ca for IoT Core on port 443,
     * as `uplink.tls` (gateway/tls-settings.ts). Files are checked at start. Default: no client certificate, Node's roots.
     */
    tls: tlsSettings.prefault({}),
    /**
     * Also subscribe to the compressed twins of the rules' `dt/...` topics (`dtz/...`, hardware/core/contract.ts
     * COMPRESSED_ENVELOPE) and store their records exactly as plain ones. Default true: a station that turns
     * `uplink.compression` on is then never acknowledged by a broker (IoT Core) with nobody subscribed.
     */
    compressed: z.boolean().default(true),
  })
  .strict()
  .transform(({ clientId, ...rest }) => ({ ...rest, clientId: clientId ?? defaultClientId(rest.shareGroup) }));

/** The exchange of published museum collections (cloud/api/collection-routes.ts). */
const collectionsSettings = z
  .object({
    /** Versions kept per published collection; publishing a newer one deletes the oldest past this, bundle and all. Default 5. */
    keepVersions: z.number().int().min(1).max(1000).default(5),
  })
  .strict();

export const cloudSettings = z
  .object({
    /** Folder of the engine's SQLite files and dataset content. Default data/cloud. */
    dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
    /** Where the engine keeps everything: sqlite (files in dataDir), or a postgres:// URL, or { url, poolSize } (pool default 10). Default sqlite. */
    storage: storageSetting,
    /** Region written into ARNs. Default eu-west-1. */
    region: z.string().regex(/^[a-z0-9-]{1,32}$/, 'a region looks like eu-west-1').default('eu-west-1'),
    /** Account id written into ARNs. Default 000000000000. */
    accountId: z.string().regex(/^\d{12}$/, 'use 12 digits, like an AWS account id').default('000000000000'),
    /** Folder of lambda activity modules (`<lambdaName>.ts|.js|.mjs`, default export). Default cloud/lambda. */
    lambdaDir: z.string().min(1).default('cloud/lambda'),
    /** How long one lambda batch may run. Default 5000 ms. */
    lambdaTimeoutMs: z.number().int().min(10).max(900_000).default(5000),
    /** How long a dataset query may run before it fails. Default 300000 ms (5 minutes). */
    queryTimeoutMs: z.number().int().min(100).max(6 * 3600_000).default(300_000),
    /** Most rows a dataset query may return; past it the content FAILS with the reason. Default 1000000. */
    queryResultMaxRows: z.number().int().min(1).default(1_000_000),
    /** Most bytes of CSV a dataset query may write; past it the content FAILS. Default 268435456 (256 MiB). */
    queryResultMaxBytes: z.number().int().min(1024).default(256 * 1024 * 1024),
    /** Dataset queries that run at once, each in its own read-only process; more wait their turn. Default 2. */
    queryConcurrency: z.number().int().min(1).max(16).default(2),
    /** How often channel, datastore and dataset retention is enforced. Default 3600000 ms (hourly). */
    retentionSweepMs: z.number().int().min(1000).default(3600_000),
    /** Declarative resource files created at start when missing (cloud/resources/*.json). Default: the ready-made weather and taps resources. */
    resourceFiles: z.array(z.string().min(1)).default(['cloud/resources/default.json']),
    mqtt: mqttSettings.prefault({}),
    /** Published museum collections: how many versions of each are kept. Default { keepVersions: 5 }. */
    collections: collectionsSettings.prefault({}),
  })
  .strict();

export type CloudSettings = z.output<typeof cloudSettings>;
export type CloudMqttSettings = z.output<typeof mqttSettings>;
