import { z } from 'zod';
import { IOT_CORE, thingName } from '../hardware/core/contract.ts';
import { duration } from '../device/settings.ts';
import { DEFAULT_MAX_ENVELOPE_BYTES, IOT_CORE_MAX_PAYLOAD_BYTES } from './envelope.ts';
import { homeAssistantSettings } from './home-assistant-settings.ts';
import { brokerUsers } from './broker-users.ts';
import { MIN_CAP_BYTES } from './outbox-cap.ts';
import { tlsSettings } from './tls-settings.ts';

/**
 * The gateway's sections of the config file: `outbox:`, `uplink:` and `broker:`. Every key has a
 * default, so a station with no config drains to the embedded broker on 127.0.0.1. The TLS options
 * (gateway/tls-settings.ts) are shared with the cloud engine's MQTT connection.
 */

/** AWS IoT Core's per-connection limits (design.md §3), applied when `uplink.profile` is iot-core. */
export const IOT_CORE_LIMITS = {
  publishesPerSecond: IOT_CORE.publishesPerSecond,
  inFlight: IOT_CORE.inFlight,
  keepaliveMinS: IOT_CORE.keepaliveMinS,
  keepaliveMaxS: IOT_CORE.keepaliveMaxS,
} as const;

/** A size in bytes: 1048576, or "512MB", "64 KiB" (KB and KiB both count 1024). */
const byteSize = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?$/i.exec(value.trim());
  if (!match) {
    ctx.addIssue({ code: 'custom', message: 'expected a number of bytes, or a size such as "512MB" or "64KiB"' });
    return z.NEVER;
  }
  const unit = (match[2] ?? 'B').toUpperCase().replace('I', '');
  const factor = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[unit as 'B' | 'KB' | 'MB' | 'GB'];
  return Math.round(Number(match[1]) * factor);
});

const brokerUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a URL: use mqtt://host:1883 or mqtts://host:8883' });
    return;
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') {
    ctx.addIssue({ code: 'custom', message: `scheme ${url.protocol} is not supported: use mqtt:// or mqtts://` });
  }
  if (!url.hostname) ctx.addIssue({ code: 'custom', message: 'the URL has no host' });
});

export const outboxSettings = z
  .object({
    /** The SQLite file; relative paths are under dataDir. Default outbox.db. */
    path: z.string().min(1).default('outbox.db'),
    /** NORMAL survives a crash of the process; FULL also a power cut, at a cost per append. Default NORMAL. */
    synchronous: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
    /**
     * Most bytes of queued record JSON; 0 for no cap, else at least 1MiB (MIN_CAP_BYTES: below it nearly
     * every record would be dropped). Default 512MB (a week at one record a second needs about 250MB).
     */
    capBytes: byteSize
      .refine((bytes) => bytes === 0 || bytes >= MIN_CAP_BYTES, {
        message: `a cap below 1MiB (${MIN_CAP_BYTES} bytes) drops nearly every record: use 1MiB or more, or 0 for no cap`,
      })
      .default(512 * 1024 ** 2),
    /** What happens at the cap. Default drop-oldest. */
    capPolicy: z.enum(['drop-oldest', 'drop-newest', 'block']).default('drop-oldest'),
    /** Check the file when it opens: full (integrity_check), quick (quick_check) or off. Default full. */
    integrityCheck: z.enum(['full', 'quick', 'off']).default('full'),
    /** How long a writer waits for the other process's lock. Default 5s. */
    busyTimeout: duration.default(5_000),
  })
  .strict();

export const uplinkSettings = z
  .object({
    /** Run the uplink. Default true. */
    enabled: z.boolean().default(true),
    /** mqtt (mqtt.js, every Pi) or aws-iot (aws-iot-device-sdk-v2, x64/arm64; falls back to mqtt). Default mqtt. */
    client: z.enum(['mqtt', 'aws-iot']).default('mqtt'),
    /** Broker URL. IoT Core: mqtts://<prefix>-ats.iot.<region>.amazonaws.com:8883. Default mqtt://127.0.0.1:1883. */
    url: brokerUrl.default('mqtt://127.0.0.1:1883'),
    /** 5, 4 (3.1.1) or auto: 5, then 3.1.1 when the broker refuses 5. Default auto. */
    protocolVersion: z.union([z.literal(5), z.literal(4), z.literal('auto')]).default('auto'),
    /** MQTT client id (IoT Core: the thing name). Default hedgerow-<thing>. */
    clientId: z
      .string()
      .min(1)
      .refine((id) => Buffer.byteLength(id) <= IOT_CORE.maxClientIdBytes, `at most ${IOT_CORE.maxClientIdBytes} bytes (AWS IoT Core's limit)`)
      .optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    tls: tlsSettings.prefault({}),
    /** generic, or iot-core: at most 100 publishes/s and 100 in flight, envelopes under 128 KB. Default generic. */
    profile: z.enum(['generic', 'iot-core']).default('generic'),
    /** QoS 1 publishes awaiting PUBACK; the broker's Receive Maximum lowers it. Default 100. */
    maxInFlight: z.number().int().min(1).max(65_535).default(100),
    /**
     * Payload bytes awaiting PUBACK (at least one envelope always goes). On a slow link 100 envelopes
     * of 128 KB would sit in memory, twice over while the socket queues them. Default 4MB.
     */
    maxInFlightBytes: byteSize.default(4 * 1024 ** 2),
    /** Publishes per second; 0 for no limit (the iot-core profile caps it at 100). Default 0. */
    maxPublishesPerSecond: z.number().int().min(0).default(0),
    /** Records per envelope. Default 100. */
    maxRecordsPerEnvelope: z.number().int().min(1).max(10_000).default(100),
    /** Bytes per envelope, under IoT Core's 128 KB. Default 128000. */
    maxEnvelopeBytes: z.number().int().min(1_024).max(IOT_CORE_MAX_PAYLOAD_BYTES - 1).default(DEFAULT_MAX_ENVELOPE_BYTES),
    /**
     * deflate: envelopes go zlib-compressed on dtz/... instead of dt/... (hardware/core/contract.ts
     * COMPRESSED_ENVELOPE), grouped up to 1 MiB of JSON and each under maxEnvelopeBytes on the wire: about
     * 13 times fewer bytes for weather records, for links billed by the byte. Only a consumer that reads
     * them (the cloud engine, cloud.mqtt.compressed) gets them. Raise maxRecordsPerEnvelope to fill them. Default off.
     */
    compression: z.enum(['off', 'deflate']).default('off'),
    /** Keep-alive. Default 60s. */
    keepalive: duration.default(60_000),
    /** First reconnect delay bound; doubles per failure, with full jitter. Default 500ms. */
    reconnectMin: duration.default(500),
    /** Largest reconnect delay, which bounds how long after the broker's return the drain resumes. Default 5s. */
    reconnectMax: duration.default(5_000),
    /** How often the outbox is checked for rows another process appended. Default 250ms. */
    pollInterval: duration.default(250),
    /** Retained status publish period (dt/<app>/<thing>/status). Default 30s. */
    statusInterval: duration.default(30_000),
    /** App level of the status topic. Default weather. */
    app: thingName.default('weather'),
  })
  .strict()
  .superRefine((uplink, ctx) => {
    if (uplink.profile === 'iot-core') {
      const seconds = uplink.keepalive / 1000;
      if (seconds < IOT_CORE_LIMITS.keepaliveMinS || seconds > IOT_CORE_LIMITS.keepaliveMaxS) {
        ctx.addIssue({ code: 'custom', path: ['keepalive'], message: `AWS IoT Core accepts a keep-alive of ${IOT_CORE.keepaliveMinS}s to ${IOT_CORE.keepaliveMaxS}s` });
      }
    }
    if (uplink.client === 'aws-iot' && (uplink.tls.cert === undefined || !uplink.url.startsWith('mqtts:'))) {
      ctx.addIssue({ code: 'custom', path: ['client'], message: 'the aws-iot client needs an mqtts:// url and uplink.tls.cert/key (mutual TLS)' });
    }
    if (uplink.reconnectMax < uplink.reconnectMin) {
      ctx.addIssue({ code: 'custom', path: ['reconnectMax'], message: 'must be at least uplink.reconnectMin' });
    }
  });

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export const brokerSettings = z
  .object({
    /** Run the embedded aedes broker. Default true under `hedgerow start`, which the CLI decides. */
    enabled: z.boolean().default(true),
    /** Address to listen on. Default 127.0.0.1; any other needs a username and password. */
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port (tests). Default 1883. */
    port: z.number().int().min(0).max(65_535).default(1883),
    /** The admin login (the engine, `hedgerow broker` users): may publish and subscribe anywhere. Default none. */
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /**
     * Each station's own login: station id -> scrypt hash from `hedgerow broker hash-password`. A station
     * may publish only under dt/<app>/<its id>/…; with any users set, anonymous clients are refused. Default none.
     */
    users: brokerUsers.optional(),
  })
  .strict()
  .superRefine((broker, ctx) => {
    if ((broker.username === undefined) !== (broker.password === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'set both broker.username and broker.password, or neither' });
    }
    if (!LOOPBACK.test(broker.host) && broker.username === undefined && broker.users === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        message: 'a broker reachable from the network needs broker.username and broker.password, or broker.users with one login per station (or bind it to 127.0.0.1)',
      });
    }
  });

export const gatewaySettings = z
  .object({
    outbox: outboxSettings.prefault({}),
    uplink: uplinkSettings.prefault({}),
    broker: brokerSettings.prefault({}),
    /** Home Assistant MQTT discovery (gateway/home-assistant-settings.ts). Default off. */
    homeAssistant: homeAssistantSettings.prefault({}),
  })
  .strict();

export type OutboxSettings = z.output<typeof outboxSettings>;
export type UplinkSettings = z.output<typeof uplinkSettings>;
export type BrokerSettings = z.output<typeof brokerSettings>;
export type GatewaySettings = z.output<typeof gatewaySettings>;

/** In-flight window and publish rate after the profile's limits. */
export function effectiveLimits(uplink: UplinkSettings): { inFlight: number; publishesPerSecond: number } {
  if (uplink.profile !== 'iot-core') return { inFlight: uplink.maxInFlight, publishesPerSecond: uplink.maxPublishesPerSecond };
  const rate = uplink.maxPublishesPerSecond;
  return {
    inFlight: Math.min(uplink.maxInFlight, IOT_CORE_LIMITS.inFlight),
    publishesPerSecond: rate === 0 ? IOT_CORE_LIMITS.publishesPerSecond : Math.min(rate, IOT_CORE_LIMITS.publishesPerSecond),
  };
}
