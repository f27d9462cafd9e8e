import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { UplinkSettings } from './settings.ts';
import { mqttTlsOptions } from './tls-settings.ts';
import { ConnectionLostError, PendingPublishes, PublishRefusedError } from './uplink.ts';
import type { UplinkConnector, UplinkSession, WillMessage } from './uplink.ts';

/** ALPN protocol AWS IoT Core needs for MQTT with a client certificate on port 443 (defined with the TLS settings). */
export { IOT_CORE_ALPN } from './tls-settings.ts';
/** Gives up on a CONNECT that gets no CONNACK. */
const CONNECT_TIMEOUT_MS = 10_000;
/** CONNACK codes that mean "I do not speak this protocol version" (3.1.1 code 1, MQTT 5 code 0x84). */
const UNSUPPORTED_VERSION_CODES = new Set([1, 0x84]);

export interface MqttConnectorOptions {
  settings: UplinkSettings;
  clientId: string;
  log: Logger;
}

/**
 * mqtt.js sessions: MQTT 5, or 3.1.1 where the broker refuses 5 (remembered for the rest of the
 * run), with username/password, TLS and mutual TLS, and IoT Core's ALPN for port 443. Pure
 * JavaScript, so it is the path that works on every Pi.
 */
export class MqttConnector implements UplinkConnector {
  readonly kind = 'mqtt.js';
  private version: 4 | 5;
  private readonly tls: ReturnType<typeof mqttTlsOptions>;

  constructor(private readonly options: MqttConnectorOptions) {
    const { settings } = options;
    this.version = settings.protocolVersion === 4 ? 4 : 5;
    this.tls = mqttTlsOptions(settings.tls);
  }

  async connect(will: WillMessage): Promise<UplinkSession> {
    try {
      return await this.open(will);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const refusedVersion = typeof code === 'number' && UNSUPPORTED_VERSION_CODES.has(code);
      if (this.version === 5 && this.options.settings.protocolVersion === 'auto' && refusedVersion) {
        // Normal for MQTT 3.1.1 brokers (the embedded aedes among them), so not a warning.
        this.options.log.info(`broker speaks MQTT 3.1.1, not 5 (${(error as Error).message}): using MQTT 3.1.1 from now on`);
        this.version = 4;
        return await this.open(will);
      }
      throw error;
    }
  }

  private open(will: WillMessage): Promise<UplinkSession> {
    const { settings, clientId } = this.options;
    const options: IClientOptions = {
      protocolVersion: this.version,
      clientId,
      clean: true,
      keepalive: Math.round(settings.keepalive / 1000),
      // Reconnecting is the drain loop's job; mqtt.js's own would resend from its memory store.
      reconnectPeriod: 0,
      // mqtt-packet's number cache is 65,536 two-byte Buffers made on the first write: 6 MB of a
      // 20 MB live heap, about 10 MB of the gateway's RSS on a Pi, to save an allocation per packet.
      writeCache: false,
      connectTimeout: CONNECT_TIMEOUT_MS,
      username: settings.username,
      password: settings.password,
      will: { topic: will.topic, payload: will.payload, qos: 1, retain: true },
      ...this.tls,
    };
    const client = mqtt.connect(settings.url, options);
    return new Promise<UplinkSession>((resolve, reject) => {
      const fail = (error: Error) => {
        client.removeAllListeners();
        client.on('error', () => {});
        client.end(true);
        reject(error);
      };
      client.once('connect', (connack) => {
        // Small publishes must not wait for Nagle's algorithm to batch them behind unacknowledged data.
        (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
        client.removeListener('error', fail);
        client.removeListener('close', closedEarly);
        resolve(new MqttSession(client, connack.properties?.receiveMaximum, this.version));
      });
      const closedEarly = () => fail(new ConnectionLostError(`connection to ${settings.url} closed before CONNACK`));
      client.once('error', fail);
      client.once('close', closedEarly);
    });
  }
}

class MqttSession implements UplinkSession {
  readonly closed: Promise<Error | undefined>;
  readonly protocol: string;
  private readonly pending = new PendingPublishes();
  private lastError: Error | undefined;

  constructor(
    private readonly client: MqttClient,
    readonly receiveMaximum: number | undefined,
    version: 4 | 5,
  ) {
    this.protocol = version === 5 ? 'MQTT 5' : 'MQTT 3.1.1';
    client.on('error', (error) => (this.lastError = error));
    this.closed = new Promise((resolve) => {
      client.once('close', () => {
        this.pending.failAll(new ConnectionLostError(`connection lost${this.lastError ? `: ${this.lastError.message}` : ''}`));
        resolve(this.lastError);
      });
    });
  }

  publish(topic: string, payload: string | Buffer, options: { retain?: boolean; qos?: 0 | 1 } = {}): Promise<void> {
    return this.pending.track((resolve, reject) => {
      this.client.publish(topic, payload, { qos: options.qos ?? 1, retain: options.retain ?? false }, (error) => {
        if (!error) return resolve();
        const code = (error as { code?: unknown }).code;
        reject(typeof code === 'number' ? new PublishRefusedError(error.message, code) : error);
      });
    });
  }

  async end(): Promise<void> {
    await new Promise<void>((resolve) => this.client.end(true, {}, () => resolve()));
    await this.closed;
  }
}
