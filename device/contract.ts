/**
 * The wire contract between devices and the cloud (design.md §3). gateway/ and cloud/ import these
 * types; nothing here imports anything.
 */

/** Per-sensor health, carried in every record so a null field always has a reason beside it. */
export type SensorStatus = 'ok' | 'missing' | `fault: ${string}`;

/** One weather record, SI units, the fields of the original Oracle station table. */
export interface WeatherRecord {
  /** Epoch milliseconds, UTC, when the interval ended. */
  ts: number;
  ambient_temperature: number | null;
  ground_temperature: number | null;
  air_quality: number | null;
  air_pressure: number | null;
  humidity: number | null;
  wind_direction: number | null;
  wind_speed: number | null;
  wind_gust_speed: number | null;
  rainfall: number | null;
  sensors: Record<string, SensorStatus>;
}

/** One museum-box tap record (dt/museum/<boxId>/tap). */
export interface TapRecord {
  ts: number;
  uid: string;
  object_id: string | null;
  event: 'started' | 'stopped' | 'finished' | 'unknown';
  play_duration_ms: number | null;
}

/** What a device hands to the outbox: the record plus where it goes. */
export interface OutgoingRecord {
  deviceId: string;
  topic: string;
  record: { ts: number } & Record<string, unknown>;
}

/** The JSON envelope on the wire. `messageId` never changes across retries; `seq` rises per device. */
export interface Envelope<R = Record<string, unknown>> {
  messageId: string;
  deviceId: string;
  seq: number;
  sentAt: number;
  records: R[];
}

/** Where device code delivers records. The gateway's outbox implements it. */
export interface RecordSink {
  /** Durably store a batch in one transaction; on return, the batch survives a crash. */
  append(batch: readonly OutgoingRecord[]): void;
}

export const topics = {
  weatherReading: (stationId: string) => `dt/weather/${stationId}/reading`,
  museumTap: (boxId: string) => `dt/museum/${boxId}/tap`,
  status: (app: string, thing: string) => `dt/${app}/${thing}/status`,
} as const;

/** Thing names become topic levels, so they must not contain MQTT wildcards or separators. */
export const THING_NAME = /^[A-Za-z0-9_-]{1,64}$/;
