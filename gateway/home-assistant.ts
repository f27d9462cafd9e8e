import type { Logger } from 'pino';
import packageJson from '../package.json' with { type: 'json' };
import type { Extension } from '../hardware/core/extension.ts';
import { topics, WEATHER_FIELD_TABLE, WEATHER_FIELDS, type WeatherField } from '../hardware/core/contract.ts';
import type { StampedEnvelope } from './envelope.ts';
import type { HomeAssistantSettings } from './home-assistant-settings.ts';
import type { UplinkObserver } from './uplink-service.ts';
import type { UplinkSession } from './uplink.ts';

/**
 * Home Assistant MQTT discovery: while the uplink is connected, the station announces one sensor per
 * weather field on the broker it sends to, keeps a retained JSON of its newest delivered reading on
 * dt/weather/<station>/latest, and ties the sensors' availability to its retained status message
 * (whose last will says "offline"). Payloads follow https://www.home-assistant.io/integrations/mqtt/
 * (discovery) and https://www.home-assistant.io/integrations/sensor.mqtt/ (the sensor's options).
 */

/**
 * Home Assistant's view of each field: its device class and state class
 * (https://developers.home-assistant.io/docs/core/entity/sensor). Units are the contract's symbols,
 * which are Home Assistant's unit strings. Air quality is a percentage with no device class of its own.
 */
const HA_SENSORS: Record<WeatherField, { deviceClass?: string; stateClass: string }> = {
  ambient_temperature: { deviceClass: 'temperature', stateClass: 'measurement' },
  ground_temperature: { deviceClass: 'temperature', stateClass: 'measurement' },
  air_quality: { stateClass: 'measurement' },
  air_pressure: { deviceClass: 'atmospheric_pressure', stateClass: 'measurement' },
  humidity: { deviceClass: 'humidity', stateClass: 'measurement' },
  // measurement_angle averages a direction as an angle (359° and 1° make 0°, not 180°).
  wind_direction: { deviceClass: 'wind_direction', stateClass: 'measurement_angle' },
  wind_speed: { deviceClass: 'wind_speed', stateClass: 'measurement' },
  wind_gust_speed: { deviceClass: 'wind_speed', stateClass: 'measurement' },
  // A record's rainfall is the rain since the record before it; Home Assistant sums a running total
  // (total_increasing: hourly and daily rain in its statistics), so the state carries one.
  rainfall: { deviceClass: 'precipitation', stateClass: 'total_increasing' },
};

/** The state key of the running rain total: mm delivered since this station process started. */
export const RAIN_TOTAL_KEY = 'rainfall_total';
/** Most state publishes per second: a backlog drain acknowledges thousands of readings, and only the newest matters. */
const STATE_INTERVAL_MS = 1_000;

export type DiscoveryConfig = Record<string, unknown>;

/** The state topic's JSON: the newest delivered reading's fields (null when its sensor was missing) and the rain total. */
export type HomeAssistantState = { ts: number } & Record<WeatherField, number | null> & { [RAIN_TOTAL_KEY]: number };

export interface HomeAssistantOptions {
  settings: HomeAssistantSettings;
  /** The station id (thing name). */
  thing: string;
  /** The uplink's status topic: the sensors' availability. */
  statusTopic: string;
  log: Logger;
  now?: () => number;
}

/** A Home Assistant object id: lower-case letters, digits and "_" (entity ids allow no "-"). */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** The value of one key of the state JSON; 'null' makes a numeric sensor "unknown" (sensor.mqtt docs, state_topic). */
function valueTemplate(key: string): string {
  return `{{ 'null' if value_json.${key} is none else value_json.${key} }}`;
}

/** Every discovery config: topic and retained payload, one sensor per field. */
export function discoveryConfigs(options: Pick<HomeAssistantOptions, 'settings' | 'thing' | 'statusTopic'>): { topic: string; payload: DiscoveryConfig }[] {
  const { settings, thing, statusTopic } = options;
  const node = `hedgerow_${slug(thing)}`;
  const version = packageJson.version;
  const device = {
    identifiers: [node],
    name: settings.deviceName ?? `Hedgerow ${thing}`,
    manufacturer: 'Hedgerow',
    model: 'Weather station',
    sw_version: version,
  };
  // origin.support_url is left out: the project publishes no URL of its own yet.
  const origin = { name: 'Hedgerow', sw_version: version };
  // The status message is JSON with a state; anything but online (connecting, offline, stopped) is unavailable.
  const availability = [{ topic: statusTopic, value_template: "{{ 'online' if value_json.state == 'online' else 'offline' }}" }];
  return WEATHER_FIELDS.map((field) => {
    const { label, symbol } = WEATHER_FIELD_TABLE[field];
    const { deviceClass, stateClass } = HA_SENSORS[field];
    const key = field === 'rainfall' ? RAIN_TOTAL_KEY : field;
    const payload: DiscoveryConfig = {
      name: field === 'rainfall' ? `${label} total` : label,
      unique_id: `${node}_${key}`,
      default_entity_id: `sensor.${node}_${key}`,
      state_topic: topics.weatherLatest(thing),
      value_template: valueTemplate(key),
      ...(deviceClass ? { device_class: deviceClass } : {}),
      unit_of_measurement: symbol,
      state_class: stateClass,
      availability,
      device,
      origin,
    };
    return { topic: `${settings.discoveryPrefix}/sensor/${node}/${key}/config`, payload };
  });
}

/** The records of a weather envelope's body (records joined by commas), or none if it is not theirs. */
function weatherRecords(body: string): Record<string, unknown>[] {
  try {
    const records: unknown = JSON.parse(`[${body}]`);
    return Array.isArray(records) ? records.filter((r): r is Record<string, unknown> => r !== null && typeof r === 'object') : [];
  } catch {
    return [];
  }
}

/**
 * The discovery publisher, an uplink observer and an Extension (start after the uplink, so it stops
 * first). It publishes through the uplink's session, beside the drain: nine retained configs per
 * connection and at most one state a second.
 */
export class HomeAssistantDiscovery implements Extension, UplinkObserver {
  readonly name = 'home-assistant';
  private readonly readingTopic: string;
  private readonly stateTopic: string;
  private readonly now: () => number;
  private session: UplinkSession | undefined;
  private latest: HomeAssistantState | undefined;
  private rainTotal = 0;
  private lastStateAt = -Infinity;
  private stateTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: HomeAssistantOptions) {
    this.readingTopic = topics.weatherReading(options.thing);
    this.stateTopic = topics.weatherLatest(options.thing);
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.stopped = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
  }

  connected(session: UplinkSession): void {
    this.session = session;
    for (const { topic, payload } of discoveryConfigs(this.options)) this.publish(topic, JSON.stringify(payload));
    if (this.latest) this.publishState();
  }

  disconnected(): void {
    this.session = undefined;
  }

  sending(envelope: StampedEnvelope): (() => void) | undefined {
    if (envelope.topic !== this.readingTopic) return undefined;
    let newest: Record<string, unknown> | undefined;
    let rain = 0;
    // The outbox holds only records the station made from the contract: no second schema check here.
    for (const record of weatherRecords(envelope.body)) {
      if (typeof record.ts !== 'number') continue;
      if (typeof record.rainfall === 'number') rain += record.rainfall;
      if (!newest || record.ts > (newest.ts as number)) newest = record;
    }
    if (!newest) return undefined;
    const reading = newest;
    return () => this.delivered(reading, rain);
  }

  /** After a PUBACK: the rain counts towards the total, the reading replaces an older latest one. */
  private delivered(reading: Record<string, unknown>, rain: number): void {
    // Rounded to the gauge's resolution scale, so sums of 0.2794 do not show float noise.
    this.rainTotal = Math.round((this.rainTotal + rain) * 1e4) / 1e4;
    const ts = reading.ts as number;
    if (!this.latest || ts >= this.latest.ts) {
      const fields = Object.fromEntries(WEATHER_FIELDS.map((f) => [f, typeof reading[f] === 'number' ? reading[f] : null]));
      this.latest = { ts, ...fields } as HomeAssistantState;
    }
    this.latest = { ...this.latest, [RAIN_TOTAL_KEY]: this.rainTotal };
    this.scheduleState();
  }

  private scheduleState(): void {
    if (this.stateTimer || this.stopped) return;
    const wait = this.lastStateAt + STATE_INTERVAL_MS - this.now();
    if (wait <= 0) this.publishState();
    else this.stateTimer = setTimeout(() => this.publishState(), wait);
  }

  private publishState(): void {
    clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
    if (!this.latest || !this.session || this.stopped) return;
    this.lastStateAt = this.now();
    this.publish(this.stateTopic, JSON.stringify(this.latest));
  }

  private publish(topic: string, payload: string): void {
    const session = this.session;
    if (!session) return;
    // QoS 0: it takes no slot of the broker's Receive Maximum, which the drain fills (mqtt.js does not
    // hold publishes back for it, and a broker disconnects a client that exceeds it). A lost connection
    // loses at most these; the next session publishes the configs and the state again.
    session.publish(topic, payload, { retain: true, qos: 0 }).catch((error: unknown) => {
      this.options.log.debug({ err: error, topic }, 'home assistant publish did not complete');
    });
  }
}
