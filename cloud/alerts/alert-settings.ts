import { z } from 'zod';

/**
 * The alerts' part of the config file (`alerts:`): thresholds (defaults, and per-station overrides),
 * hysteresis, how often to evaluate, and where alerts go. Every key has a default, so `npm start` keeps
 * alerts in the dataset, on the page and on MQTT with no config; ntfy and the webhook are one entry each.
 */

/** The thresholds, defined once: the alert engine uses them and the page draws the frost and wind lines from them. */
export const thresholdShape = {
  /** Frost alert when the air or ground temperature is at or below this. Default 0 °C. */
  frostAtOrBelowC: z.number().min(-50).max(10).default(0),
  /** Heavy-rain alert when the rain in the last hour reaches this. Default 10 mm. */
  heavyRainMmPerHour: z.number().positive().max(500).default(10),
  /** Heavy-rain alert when the rain in the last 24 hours reaches this. Default 25 mm. */
  heavyRainMmPerDay: z.number().positive().max(2000).default(25),
  /** High-wind alert when a gust reaches this. Default 60 km/h. */
  highGustKmh: z.number().positive().max(400).default(60),
  /** Station-offline alert after this long without a record. Default 30 minutes. */
  offlineMinutes: z.number().int().min(1).max(7 * 24 * 60).default(30),
};
export const alertThresholds = z.object(thresholdShape).strict();
export type AlertThresholds = z.output<typeof alertThresholds>;

/** Per-station overrides: any threshold key, nothing else (a typo is an error, not a silent default). */
const THRESHOLD_KEYS = Object.keys(thresholdShape);
const stationOverride = z.strictObject(
  Object.fromEntries(Object.entries(thresholdShape).map(([k, v]) => [k, v.removeDefault().optional()])) as { [K in keyof typeof thresholdShape]: z.ZodOptional<z.ZodNumber> },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}: a station override takes ${THRESHOLD_KEYS.join(', ')}` : undefined,
  },
);

const hold = (clearMargin: number, minHoldMinutes: number, unit: string) =>
  z
    .object({
      /** The alert ends only once the value is this far past the threshold (`unit`), so a value hovering at it does not flap. */
      clearMargin: z.number().min(0).max(100).default(clearMargin),
      /** An alert lasts at least this long, however quickly the value recovers. */
      minHoldMinutes: z.number().min(0).max(24 * 60).default(minHoldMinutes),
    })
    .strict()
    .describe(unit);

const hysteresis = z
  .object({
    /** Frost ends above threshold + 1 °C, after at least 10 minutes. */
    frost: hold(1, 10, '°C').prefault({}),
    /** Heavy rain ends when both the hour and the day are 2 mm below their thresholds, after at least 30 minutes. */
    heavyRain: hold(2, 30, 'mm').prefault({}),
    /** High wind ends when gusts fall 10 km/h below the threshold, after at least 15 minutes. */
    highWind: hold(10, 15, 'km/h').prefault({}),
  })
  .strict();

const httpUrl = (what: string) =>
  z
    .string()
    .refine((text) => {
      try {
        const url = new URL(text);
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
      } catch {
        return false;
      }
    }, `use an http:// or https:// address for the ${what}, e.g. https://ntfy.sh/my-farm-alerts`);

const ntfySettings = z
  .object({
    /** The topic's address: https://ntfy.sh/<topic> or http://<your-server>/<topic>. */
    url: httpUrl('ntfy topic'),
    /** Access token for a protected topic (sent as Authorization: Bearer). Default: none. */
    token: z.string().min(1).optional(),
    /** ntfy priority 1 (min) .. 5 (max) of start messages; end messages go one lower. Default 4 (high). */
    priority: z.number().int().min(1).max(5).default(4),
  })
  .strict();

const webhookSettings = z
  .object({
    /** Where each alert start and end is POSTed as JSON. */
    url: httpUrl('webhook'),
    /** Extra request headers, e.g. { Authorization: "Bearer ..." }. Default: none. */
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name: letters, digits and -'), z.string().regex(/^[\t\x20-\x7e]*$/, 'a header value: printable ASCII on one line'))
      .default({}),
    /** With a secret, each request carries X-Hedgerow-Signature: sha256=<hex HMAC-SHA256 of the body>. Default: none. */
    secret: z.string().min(8, 'use a secret of at least 8 characters').optional(),
  })
  .strict();

const deliverySettings = z
  .object({
    /** A request (or MQTT publish) that takes longer than this fails and is retried. Default 10000 ms. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** First retry delay; each retry doubles it, with jitter. Default 5000 ms. */
    retryBaseMs: z.number().int().min(10).max(3600_000).default(5000),
    /** Longest retry delay. Default 900000 ms (15 minutes). */
    retryMaxMs: z.number().int().min(10).max(24 * 3600_000).default(900_000),
  })
  .strict();

export const alertSettings = z
  .object({
    /** Whether the cloud evaluates alerts at all. Default true. */
    enabled: z.boolean().default(true),
    /** How often new records are evaluated (and offline stations noticed). Default 60 s. */
    evaluateEverySeconds: z.number().int().min(1).max(3600).default(60),
    /**
     * Only an alert that started within this window is sent (ntfy, webhook, MQTT). Older ones, such as those
     * found in a backfilled week, are kept as history in the dataset and on the page. Default 60 minutes.
     */
    notifyWithinMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
    ...thresholdShape,
    hysteresis: hysteresis.prefault({}),
    /** Per-station overrides of the thresholds, e.g. { hill_top: { highGustKmh: 80 } }. Default: none. */
    stations: z.record(z.string().min(1), stationOverride).default({}),
    /** Channel the alert start/end events are put into (BatchPutMessage), feeding the weather_alerts dataset. Default alerts_channel. */
    channelName: z.string().regex(/^[a-zA-Z0-9_]{1,128}$/, 'use a channel name: letters, digits and _').default('alerts_channel'),
    /** Retained MQTT messages on <topicPrefix>/<stationId>/<kind>, on the engine's broker (cloud.mqtt). Default true. */
    mqtt: z
      .object({
        /** Whether alerts are published (also needs cloud.mqtt.enabled). Default true. */
        enabled: z.boolean().default(true),
        /** Default dt/alerts. */
        topicPrefix: z.string().regex(/^[^#+]+[^/#+]$/, 'a topic prefix without wildcards or a trailing /').default('dt/alerts'),
      })
      .strict()
      .prefault({}),
    /** One ntfy topic to notify, e.g. { url: https://ntfy.sh/my-farm-alerts }. Default: none. */
    ntfy: ntfySettings.optional(),
    /** One webhook to POST alert events to. Default: none. */
    webhook: webhookSettings.optional(),
    delivery: deliverySettings.prefault({}),
  })
  .strict();

export type AlertSettings = z.output<typeof alertSettings>;
export type NtfySettings = z.output<typeof ntfySettings>;
export type WebhookSettings = z.output<typeof webhookSettings>;
export type DeliverySettings = z.output<typeof deliverySettings>;
export type Hysteresis = z.output<typeof hysteresis>;

/** The thresholds that apply to one station: its overrides laid over the defaults. */
export function thresholdsFor(settings: AlertSettings, stationId: string): AlertThresholds {
  const base: AlertThresholds = {
    frostAtOrBelowC: settings.frostAtOrBelowC,
    heavyRainMmPerHour: settings.heavyRainMmPerHour,
    heavyRainMmPerDay: settings.heavyRainMmPerDay,
    highGustKmh: settings.highGustKmh,
    offlineMinutes: settings.offlineMinutes,
  };
  const over = settings.stations[stationId] ?? {};
  return { ...base, ...Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) };
}
