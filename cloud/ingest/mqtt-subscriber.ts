import mqtt, { type MqttClient } from 'mqtt';
import type { Extension } from '../../hardware/core/extension.ts';
import { mqttTlsOptions } from '../../gateway/tls-settings.ts';
import type { EngineContext } from '../engine/engine-context.ts';
import { explainMqttError } from './mqtt-connection-error.ts';
import type { RuleIngest } from './rule-ingest.ts';

/**
 * The engine's MQTT connection. Messages are handled one at a time through mqtt.js's handleMessage,
 * so a QoS 1 message is acknowledged only after its channel write: if the engine stops mid-way the
 * broker sends it again, and the messageId makes the repeat harmless.
 */
export class MqttSubscriber implements Extension {
  readonly name = 'cloud-mqtt';
  private client: MqttClient | undefined;
  private subscribed = new Set<string>();
  /** The last connection problem logged: a broker refusing every second is logged once, not every second. */
  private lastProblem: string | undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly ingest: RuleIngest,
  ) {}

  async start(): Promise<void> {
    const settings = this.ctx.settings.mqtt;
    const client = mqtt.connect(settings.url, {
      clientId: settings.clientId,
      clean: false,
      reconnectPeriod: 1000,
      ...(settings.username === undefined ? {} : { username: settings.username }),
      ...(settings.password === undefined ? {} : { password: settings.password }),
      ...mqttTlsOptions(settings.tls),
    });
    client.handleMessage = (packet, done) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      this.ingest.handle(packet.topic, payload).finally(() => done());
    };
    client.on('connect', () => {
      this.subscribed.clear();
      this.lastProblem = undefined;
      this.refresh();
      this.ctx.log.info({ url: settings.url }, 'cloud engine subscribed to the broker');
    });
    client.on('error', (error) => {
      const problem = explainMqttError(error, 'cloud.mqtt');
      if (problem === this.lastProblem) return;
      this.lastProblem = problem;
      this.ctx.log.warn({ url: settings.url, code: (error as { code?: unknown }).code }, `cloud MQTT connection to ${settings.url} failed: ${problem}; retrying every second`);
    });
    this.client = client;
  }

  /** Follows the rules: subscribes to new topic filters and drops unused ones. */
  refresh(): void {
    const client = this.client;
    if (!client?.connected) return;
    const wanted = new Set(this.ingest.filters());
    const added = [...wanted].filter((f) => !this.subscribed.has(f));
    const removed = [...this.subscribed].filter((f) => !wanted.has(f));
    if (added.length > 0) {
      client.subscribe(added, { qos: 1 }, (error) => {
        if (error) this.ctx.log.error({ err: error, filters: added }, 'subscribe failed');
      });
    }
    if (removed.length > 0) client.unsubscribe(removed);
    this.subscribed = wanted;
  }

  /** Resolves once the client is connected and subscribed (tests wait on it). */
  async ready(): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('the subscriber is not started');
    if (!client.connected) await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const filters = this.ingest.filters();
    await client.subscribeAsync(filters, { qos: 1 });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
  }
}
