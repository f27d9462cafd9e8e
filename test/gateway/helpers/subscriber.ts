// Collects every envelope a broker delivers on a topic filter, for the delivery assertions.
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Envelope } from '../../../hardware/core/contract.ts';

export class Collector {
  readonly envelopes: Envelope<Record<string, unknown>>[] = [];
  readonly statuses: Record<string, unknown>[] = [];
  private constructor(private readonly client: MqttClient) {}

  static async start(url: string, filter = 'dt/#', options: IClientOptions = {}): Promise<Collector> {
    const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 100, clean: false, clientId: `collector-${process.pid}-${Math.random()}`, properties: { sessionExpiryInterval: 600 }, ...options });
    const collector = new Collector(client);
    client.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (topic.endsWith('/status')) collector.statuses.push(body);
      else collector.envelopes.push(body as unknown as Envelope<Record<string, unknown>>);
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => client.subscribe(filter, { qos: 1 }, (error) => (error ? reject(error) : resolve())));
      client.once('error', reject);
    });
    return collector;
  }

  /** Records received, in arrival order. */
  records(): Record<string, unknown>[] {
    return this.envelopes.flatMap((envelope) => envelope.records);
  }

  async until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (${this.envelopes.length} envelopes received)`);
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}
