import { z } from 'zod';

/**
 * The wire contract between devices and the cloud (design.md §3), as zod schemas with the types
 * derived from them. device/, gateway/ and cloud/ take topics, field names, units and IoT Core's
 * limits from here, so there is one copy of each. Nothing here imports another project folder.
 */

// ---------- AWS IoT Core's limits ----------

/** AWS IoT Core's limits (design.md §3): the uplink respects them everywhere, the cloud enforces the payload and topic ones. */
export const IOT_CORE = {
  /** Largest MQTT payload, bytes (128 KB). */
  maxPayloadBytes: 128 * 1024,
  /** Longest topic, UTF-8 bytes. */
  maxTopicBytes: 256,
  /** Most levels in a topic (the `/`-separated parts). */
  maxTopicLevels: 8,
  /** QoS levels IoT Core accepts; 2 is refused. */
  qos: [0, 1] as const,
  /** Publishes per second per connection. */
  publishesPerSecond: 100,
  /** Unacknowledged QoS 1 publishes in flight per connection (about). */
  inFlight: 100,
  /** Longest MQTT client id, bytes. */
  maxClientIdBytes: 128,
  /** One CONNECT per second per client id. */
  connectSpacingMs: 1_000,
  keepaliveMinS: 30,
  keepaliveMaxS: 1200,
} as const;

/** An envelope's messageId is suffixed `-<index>` per record in the cloud, and channel message ids stop at 128. */
export const MAX_MESSAGE_ID_LENGTH = 122;

/** IoT Analytics attribute names (design.md §3); the cloud also checks they are unique ignoring case. */
export const ATTRIBUTE_NAME = /^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$/;

// ---------- topics ----------

/** Thing names become topic levels, so they must not contain MQTT wildcards or separators. */
export const THING_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const thingName = z.string().regex(THING_NAME, 'use 1-64 letters, digits, "-" or "_" (it becomes an MQTT topic level)');

export const topics = {
  weatherReading: (stationId: string) => `dt/weather/${stationId}/reading`,
  /** Retained: the newest reading the uplink delivered, for Home Assistant (gateway/home-assistant.ts). */
  weatherLatest: (stationId: string) => `dt/weather/${stationId}/latest`,
  museumTap: (boxId: string) => `dt/museum/${boxId}/tap`,
  status: (app: string, thing: string) => `dt/${app}/${thing}/status`,
} as const;

/**
 * Compressed envelopes (opt-in, for links billed by the byte): the same JSON envelope, deflated in the
 * zlib format (RFC 1950: deflate plus a 2-byte header and an Adler-32 of the JSON, so a damaged payload
 * is caught rather than parsed), published on the same topic with its first level `dt` replaced by
 * `topicRoot`. The mark is in the topic, not only in an MQTT 5 property (content type), because brokers
 * route by topic: a subscriber to `dt/weather/+/reading` or `dt/#` is never sent one, while a property
 * would still reach every plain subscriber, and never reaches an MQTT 3.1.1 one. Only filters that
 * start with a wildcard (`#`, `+/weather/...`) also match them. Node 20's zlib has no zstd
 * (zstdCompressSync came in Node 22.15), so deflate it is.
 */
export const COMPRESSED_ENVELOPE = {
  /** First topic level of compressed envelopes, in place of `dt`. */
  topicRoot: 'dtz',
  /** What the payload is: zlib (RFC 1950) deflate of the JSON envelope. */
  encoding: 'zlib',
  /**
   * Most bytes a compressed envelope may inflate to: the station groups records up to it, the cloud
   * refuses anything larger (a deflate bomb stops there). Weather envelopes deflate about 13 to 1, so
   * 1 MiB of JSON travels in about 80 KB, under IoT Core's 128 KB.
   */
  maxInflatedBytes: 1024 * 1024,
} as const;

/** The compressed twin of a `dt/...` topic or topic filter; undefined for any other. */
export function compressedTopic(topic: string): string | undefined {
  return topic.startsWith('dt/') ? `${COMPRESSED_ENVELOPE.topicRoot}/${topic.slice('dt/'.length)}` : undefined;
}

/** The plain `dt/...` topic a compressed envelope's topic stands for; undefined for a topic that is not a compressed one. */
export function plainTopicOf(topic: string): string | undefined {
  const root = `${COMPRESSED_ENVELOPE.topicRoot}/`;
  return topic.startsWith(root) ? `dt/${topic.slice(root.length)}` : undefined;
}

/** The levels of a `dt/<app>/<thing>/<type>` topic. */
export interface TopicParts {
  app: string;
  thing: string;
  type: string;
}

/** `dt/<app>/<thing>/<type>` split into its levels, or undefined for any other topic (a rule may match those too). */
export function parseTopic(topic: string): TopicParts | undefined {
  const levels = topic.split('/');
  if (levels.length !== 4 || levels[0] !== 'dt') return undefined;
  const [, app, thing, type] = levels as [string, string, string, string];
  // The thing level is not checked against THING_NAME: a topic naming no valid thing must still
  // be compared with the envelope's deviceId (and so refused), not skip the check.
  if (app === '' || thing === '' || type === '') return undefined;
  return { app, thing, type };
}

// ---------- record fields ----------

/**
 * The weather record's measured fields, in record order: unit (design.md §3), the label people read,
 * `symbol` (how the unit sits beside a number on a short line) and the range a reading may take.
 *
 * Ranges are physically plausible but generous: they cover every sensor's datasheet range and Earth's
 * records, so a real reading is never refused, while a unit mix-up (Pa for hPa, kelvin for °C) or a
 * garbage number is.
 * - temperatures -100..125 °C: Earth's low is -89.2 °C, DS18B20 and HTU21D read up to 125 °C
 *   (a sun-baked ground probe); 273 (kelvin) is refused.
 * - air_pressure 300..1100 hPa: the BME280's range (a station 9 km up still fits); Pa (101325) and kPa (101) are refused.
 * - air_quality and humidity 0..100 %.
 * - wind_direction 0..360°: the vector mean lands in [0, 360).
 * - wind speeds 0..500 km/h: the strongest gust measured is 408 km/h.
 * - rainfall 0..2000 mm per record: more than the wettest day on record (1825 mm), for a record that
 *   covers a long interval.
 *
 * `decimals` is how finely a figure is worth showing or exporting: what the sensors resolve, not what
 * float arithmetic leaves. Rain keeps two because a gauge tip is 0.2794 mm: at one decimal every tip
 * would read 0.3 and a day's total would come out 7 % high.
 */
export const WEATHER_FIELD_TABLE = {
  ambient_temperature: { unit: '°C', symbol: '°C', label: 'Air temperature', min: -100, max: 125, decimals: 1 },
  ground_temperature: { unit: '°C', symbol: '°C', label: 'Ground temperature', min: -100, max: 125, decimals: 1 },
  air_quality: { unit: '%', symbol: '%', label: 'Air quality', min: 0, max: 100, decimals: 0 },
  air_pressure: { unit: 'hPa', symbol: 'hPa', label: 'Pressure', min: 300, max: 1100, decimals: 1 },
  humidity: { unit: '%RH', symbol: '%', label: 'Humidity', min: 0, max: 100, decimals: 0 },
  wind_direction: { unit: '°', symbol: '°', label: 'Wind direction', min: 0, max: 360, decimals: 0 },
  wind_speed: { unit: 'km/h', symbol: 'km/h', label: 'Wind', min: 0, max: 500, decimals: 1 },
  wind_gust_speed: { unit: 'km/h', symbol: 'km/h', label: 'Gusts', min: 0, max: 500, decimals: 1 },
  rainfall: { unit: 'mm', symbol: 'mm', label: 'Rain', min: 0, max: 2000, decimals: 2 },
} as const satisfies Record<string, FieldSpec>;

export interface FieldSpec {
  unit: string;
  symbol: string;
  label: string;
  min: number;
  max: number;
  /** Decimal places worth showing or exporting (see roundReading). */
  decimals: number;
}

export type WeatherField = keyof typeof WEATHER_FIELD_TABLE;
/** The measured fields in record order. */
export const WEATHER_FIELDS = Object.keys(WEATHER_FIELD_TABLE) as WeatherField[];

/** A number with its field's unit symbol, as on a short line: "1012.3 hPa", "12.3°C", "65%" (no space before ° or %). */
export function withSymbol(text: string, field: WeatherField): string {
  const symbol: string = WEATHER_FIELD_TABLE[field].symbol;
  return /^[°%]/.test(symbol) ? `${text}${symbol}` : `${text} ${symbol}`;
}

/** A reading rounded to its field's `decimals` (half away from zero), never -0: what downloads and charts carry. */
export function roundReading(field: WeatherField, value: number): number {
  const scale = 10 ** WEATHER_FIELD_TABLE[field].decimals;
  const rounded = (Math.sign(value) * Math.round(Math.abs(value) * scale)) / scale;
  return rounded === 0 ? 0 : rounded;
}

// ---------- records ----------

/** Epoch milliseconds, UTC. */
const epochMs = z.number({ error: 'ts is epoch milliseconds (a number)' }).int('ts is epoch milliseconds, a whole number').nonnegative().max(Number.MAX_SAFE_INTEGER);

/** Per-sensor health, carried in every record so a null field always has a reason beside it. */
export const sensorStatus = z.union([z.literal('ok'), z.literal('missing'), z.templateLiteral(['fault: ', z.string().min(1)])], {
  error: 'a sensor status is "ok", "missing" or "fault: <reason>"',
});
export type SensorStatus = z.output<typeof sensorStatus>;

function measured(field: WeatherField) {
  const { min, max, unit } = WEATHER_FIELD_TABLE[field];
  return z
    .number({ error: `${field} is a number in ${unit}, or null when its sensor is missing` })
    .min(min, `${field} below ${min} ${unit} is not a real reading`)
    .max(max, `${field} above ${max} ${unit} is not a real reading`)
    .nullable();
}
const measuredFields = Object.fromEntries(WEATHER_FIELDS.map((f) => [f, measured(f)])) as { [F in WeatherField]: ReturnType<typeof measured> };

/** One weather record, SI units, the fields of the original Oracle station table. A missing or faulty sensor's fields are null. */
export const weatherRecord = z.object({
  /** When the interval ended. */
  ts: epochMs,
  ...measuredFields,
  sensors: z.record(z.string().regex(ATTRIBUTE_NAME, 'a sensor name is an attribute name, e.g. bme280'), sensorStatus),
});
export type WeatherRecord = z.output<typeof weatherRecord>;
export type WeatherFields = Omit<WeatherRecord, 'ts' | 'sensors'>;

/** One museum-box tap record (dt/museum/<boxId>/tap). */
export const tapRecord = z.object({
  ts: epochMs,
  /** The tag's UID in hex, 1..32 bytes (ISO 14443 UIDs are 4, 7 or 10). */
  uid: z.string().regex(/^([0-9A-Fa-f]{2}){1,32}$/, 'uid is the tag UID in hex, e.g. 04a224e2c85e80'),
  object_id: z.string().min(1).max(256).nullable(),
  event: z.enum(['started', 'stopped', 'finished', 'unknown']),
  /** Up to a day: a longer play is a clock fault. */
  play_duration_ms: z.number().int().nonnegative().max(86_400_000).nullable(),
  /**
   * The collection the box played from: its folder name, what `collection:<name>` admin tags use.
   * Optional, like collection_version: boxes from before collections travelled send neither.
   */
  collection: z.string().min(1).max(128).optional(),
  /** The collection's version (its manifest's `version`), so taps tell the versions of a travelling collection apart. */
  collection_version: z.number().int().positive().optional(),
});
export type TapRecord = z.output<typeof tapRecord>;

/**
 * How the cloud checks a record that arrived for a topic type: present fields must match the
 * contract, but fields may be left out and others added. A station with fewer sensors or newer
 * firmware (a field this contract does not know yet) must not lose its readings; the generic
 * attribute-name rules still apply to every key.
 */
export const RECORD_SCHEMAS = {
  reading: weatherRecord.partial().required({ ts: true }).loose(),
  tap: tapRecord.partial().required({ ts: true }).loose(),
} as const;
/** Any other topic type: only a numeric `ts`. */
export const genericRecord = z.object({ ts: z.number({ error: 'ts is a number (epoch milliseconds)' }) }).loose();

/** Why a record for this topic type breaks the contract, or undefined when it keeps it. */
export function recordProblem(type: string, record: unknown): string | undefined {
  const schema = type === 'reading' || type === 'tap' ? RECORD_SCHEMAS[type] : genericRecord;
  const parsed = schema.safeParse(record);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.join('.');
  return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message;
}

// ---------- envelope ----------

/** The JSON envelope on the wire. `messageId` never changes across retries; `seq` rises per device. */
export const envelope = z.object({
  messageId: z.string().min(1).max(MAX_MESSAGE_ID_LENGTH),
  deviceId: z.string().regex(THING_NAME),
  seq: z.number().int().nonnegative(),
  /** Epoch ms of this attempt (it changes on a retry; messageId does not). */
  sentAt: z.number(),
  records: z.array(z.unknown()),
});

const ENVELOPE_ERRORS: Record<keyof z.input<typeof envelope>, string> = {
  messageId: `the envelope messageId must be a string of 1-${MAX_MESSAGE_ID_LENGTH} characters`,
  deviceId: 'the envelope deviceId must be a thing name (letters, digits, "-", "_")',
  seq: 'the envelope seq must be a whole number, 0 or more',
  sentAt: 'the envelope sentAt must be a number (epoch ms)',
  records: 'the envelope records must be an array',
};

/** Parses an envelope, or says which field is wrong in words a device developer can act on. */
export function parseEnvelope(value: unknown): { envelope: Envelope<unknown> } | { problem: string } {
  const parsed = envelope.safeParse(value);
  if (parsed.success) return { envelope: parsed.data };
  const field = parsed.error.issues[0]!.path[0] as keyof typeof ENVELOPE_ERRORS | undefined;
  return { problem: (field && ENVELOPE_ERRORS[field]) ?? 'an envelope is {messageId, deviceId, seq, sentAt, records}' };
}
export type Envelope<R = Record<string, unknown>> = Omit<z.output<typeof envelope>, 'records'> & { records: R[] };

/** What a device hands to the outbox: the record plus where it goes. */
export interface OutgoingRecord {
  deviceId: string;
  topic: string;
  record: { ts: number } & Record<string, unknown>;
}

/** Where device code delivers records. The gateway's outbox implements it. */
export interface RecordSink {
  /** Durably store a batch in one transaction; on return, the batch survives a crash. */
  append(batch: readonly OutgoingRecord[]): void;
}

// ---------- status ----------

export const connectionState = z.enum(['connecting', 'online', 'offline', 'stopped']);
export type ConnectionState = z.output<typeof connectionState>;

/** The retained message on dt/<app>/<thing>/status, and what `hedgerow status` prints. */
export const deviceStatus = z.object({
  thing: thingName,
  state: connectionState,
  /** Epoch ms this status was made. */
  ts: z.number(),
  /** Epoch ms the state last changed. */
  since: z.number(),
  client: z.string(),
  protocol: z.string().nullable(),
  broker: z.string(),
  depth: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  oldestAgeMs: z.number().nullable(),
  sentRecords: z.number().int().nonnegative(),
  sentEnvelopes: z.number().int().nonnegative(),
  droppedRecords: z.number().int().nonnegative(),
  retriedEnvelopes: z.number().int().nonnegative(),
  lastError: z.string().nullable(),
  /** The station's metrics (gateway/metrics.ts) as Prometheus name -> value; absent from the last will. */
  metrics: z.record(z.string(), z.number()).optional(),
});
export type DeviceStatus = z.output<typeof deviceStatus>;
