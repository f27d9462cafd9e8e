import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Extension } from '../hardware/core/extension.ts';
import { describeCommand, parseVirtualWeatherCommand, virtualWeatherTopic } from '../hardware/virtual-weather-command.ts';
import type { VirtualWeather } from '../hardware/virtual-weather.ts';
import type { UplinkSettings } from '../gateway/settings.ts';

/** Waits between reconnects to the broker; the control is a convenience, so it never gives up. */
const RECONNECT_MS = 5_000;

/** The broker options of the uplink's settings (URL, credentials, TLS), for another client of the same broker. */
export function brokerClientOptions(uplink: UplinkSettings, clientId: string): IClientOptions {
  const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path));
  return {
    clientId,
    // 3.1.1 is spoken by every broker we meet (the embedded aedes speaks nothing newer), and a subscription needs nothing of 5.
    protocolVersion: 4,
    clean: true,
    username: uplink.username,
    password: uplink.password,
    rejectUnauthorized: uplink.tls.rejectUnauthorized,
    ca: read(uplink.tls.ca),
    cert: read(uplink.tls.cert),
    key: read(uplink.tls.key),
    connectTimeout: 10_000,
  };
}

/**
 * A virtual station obeys cmd/weather/<stationId>/virtual-weather (hardware/virtual-weather-command.ts):
 * the values go into its weather model, so its virtual sensors' registers, and so the real drivers, carry
 * them from the next update. A payload that does not parse is refused with the reason in the log. On real
 * hardware there is no model, and nothing is subscribed.
 */
export class VirtualWeatherControl implements Extension {
  readonly name = 'weather-control';
  private client: MqttClient | undefined;

  constructor(
    private readonly options: {
      stationId: string;
      uplink: UplinkSettings;
      /** The station's weather model once it started; undefined on real hardware. */
      weather: () => VirtualWeather | undefined;
      log: Logger;
    },
  ) {}

  async start(): Promise<void> {
    const { stationId, uplink, log } = this.options;
    const weather = this.options.weather();
    if (!weather) return;
    const topic = virtualWeatherTopic(stationId);
    const client = mqtt.connect(uplink.url, { ...brokerClientOptions(uplink, `hedgerow-${stationId}-weather-control`), reconnectPeriod: RECONNECT_MS });
    this.client = client;
    client.on('connect', () => {
      client.subscribe(topic, { qos: 1 }, (error) => {
        if (error) log.warn({ err: error }, `cannot subscribe to ${topic}; the virtual weather cannot be changed over MQTT`);
        else log.debug(`listening on ${topic} for virtual weather changes`);
      });
    });
    // The uplink reports the broker's state; this client only notes its own trouble at debug.
    client.on('error', (error) => log.debug({ err: error }, 'virtual weather control: broker error'));
    client.on('message', (_topic, payload) => {
      if (payload.length === 0) return;
      const parsed = parseVirtualWeatherCommand(payload);
      if ('problem' in parsed) {
        log.warn(`refused a virtual weather change on ${topic}: ${parsed.problem}`);
        return;
      }
      weather.override(parsed.override);
      log.info(`virtual weather for ${stationId}: ${describeCommand(parsed.command)}`);
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
}
