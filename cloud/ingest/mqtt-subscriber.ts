import mqtt, { type MqttClient } from 'mqtt';
import type { Extension } from '../../hardware/core/extension.ts';
import { mqttTlsOptions } from '../../gateway/tls-settings.ts';
import type { EngineContext } from '../engine/engine-context.ts';
import { explainMqttError } from './mqtt-connection-error.ts';
import type { RuleIngest } from './rule-ingest.ts';

/** First pause before a failed commit is tried again; it doubles up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * The engine's MQTT connection. Messages are handled one at a time through mqtt.js's handleMessage,
 * so a QoS 1 message is acknowledged only after its commit, with or without a share group: if the store
 * fails or the engine stops mid-way the broker sends it again, and the messageId makes the repeat harmless.
 */
export class MqttSubscriber implements Extension {
  readonly name = 'cloud-mqtt';
  private client: MqttClient | undefined;
  private subscribed = new Set<string>();
  /** The last connection problem logged: a broker refusing every second is logged once, not every second. */
  private lastProblem: string | undefined;
  /** Whether the last commit failed: the store's failure and recovery are logged once each. */
  private storeFailing = false;

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
      // Only what is committed (or refused for good) is acknowledged; see committed().
      void this.committed(packet.topic, payload).then((ok) => {
        if (ok) done();
      });
    };
    client.on('connect', () => {
      this.subscribed.clear();
      this.lastProblem = undefined;
      this.refresh();
      this.ctx.log.info({ url: settings.url, clientId: settings.clientId, shareGroup: settings.shareGroup }, 'cloud engine subscribed to the broker');
    });
    client.on('error', (error) => {
      const problem = explainMqttError(error, 'cloud.mqtt');
      if (problem === this.lastProblem) return;
      this.lastProblem = problem;
      this.ctx.log.warn({ url: settings.url, code: (error as { code?: unknown }).code }, `cloud MQTT connection to ${settings.url} failed: ${problem}; retrying every second`);
    });
    this.client = client;
  }

  /**
   * Ingests one message until its rows are committed (or it is refused as bad), then true. A store
   * failure worth retrying (isRetryableStoreError: SQLITE_BUSY past the busy timeout, a lost database
   * connection, PostgreSQL restarting) leaves it unacknowledged and is tried again after a growing pause,
   * logged once when the store starts failing and once when it recovers. False when the engine stops
   * first: the connection closes without the PUBACK, so the broker sends the message again (to this
   * worker's session or, in a share group once it is gone, another worker), and the database's
   * messageId key makes the repeat harmless.
   */
  private async committed(topic: string, payload: Buffer): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ingest.handleOrThrow(topic, payload);
        if (this.storeFailing) {
          this.storeFailing = false;
          this.ctx.log.info({ topic }, 'the store accepts messages again; ingest resumed');
        }
        return true;
      } catch (error) {
        if (!this.storeFailing) {
          this.storeFailing = true;
          this.ctx.log.warn({ err: error, topic }, 'storing an MQTT message failed; it stays unacknowledged and is retried until the store accepts it');
        }
      }
      await new Promise<void>((resolve) => setTimeout(resolve, Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt)));
      if (this.client === undefined) return false;
    }
  }

  /** The filter as subscribed: `$share/<group>/<filter>` for a worker of a share group. */
  private subscription(filter: string): string {
    const group = this.ctx.settings.mqtt.shareGroup;
    return group === undefined ? filter : `$share/${group}/${filter}`;
  }

  /** Follows the rules: subscribes to new topic filters and drops unused ones. */
  refresh(): void {
    const client = this.client;
    if (!client?.connected) return;
    const wanted = new Set(this.ingest.filters().map((f) => this.subscription(f)));
    const added = [...wanted].filter((f) => !this.subscribed.has(f));
    const removed = [...this.subscribed].filter((f) => !wanted.has(f));
    if (added.length > 0) {
      client.subscribe(added, { qos: 1 }, (error) => {
        if (error) this.ctx.log.error({ err: error, filters: added }, 'subscribe failed');
        else this.ctx.log.info({ filters: added }, `the broker confirmed the subscriptions to ${added.join(', ')}`);
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
    const filters = this.ingest.filters().map((f) => this.subscription(f));
    await client.subscribeAsync(filters, { qos: 1 });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
  }
}
