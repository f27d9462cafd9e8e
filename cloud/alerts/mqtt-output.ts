import mqtt, { type MqttClient } from 'mqtt';
import type { CloudMqttSettings } from '../settings.ts';
import type { AlertEvent } from './alert-model.ts';
import { notifiable, type AlertOutput, type DeliveryResult } from './alert-output.ts';

/**
 * Retained alert messages on `<prefix>/<stationId>/<kind>`, QoS 1, on the engine's broker (cloud.mqtt)
 * with a client of its own (`<clientId>-alerts`), so alerts never wait behind ingest.
 *
 * The payload is the alert with its headline and detail. When it ends, the ended alert (endedAt set)
 * replaces it, still retained: a subscriber that connects later learns that the frost is over and when,
 * and an alert is active exactly when its retained message has `endedAt: null`.
 */
export class MqttAlertOutput implements AlertOutput {
  readonly name = 'mqtt';
  private readonly client: MqttClient;

  constructor(
    settings: CloudMqttSettings,
    private readonly topicPrefix: string,
    private readonly timeoutMs: number,
    onError: (error: Error) => void,
    /** Called on every (re)connect, so deliveries waiting for the broker go now rather than at their backoff. */
    onConnect: () => void = () => undefined,
  ) {
    this.client = mqtt.connect(settings.url, {
      clientId: `${settings.clientId}-alerts`,
      reconnectPeriod: 1000,
      connectTimeout: timeoutMs,
      ...(settings.username === undefined ? {} : { username: settings.username }),
      ...(settings.password === undefined ? {} : { password: settings.password }),
    });
    this.client.on('error', onError);
    this.client.on('connect', onConnect);
  }

  topicOf(event: AlertEvent): string {
    return `${this.topicPrefix}/${event.alert.stationId}/${event.alert.kind}`;
  }

  wants(event: AlertEvent): boolean {
    return notifiable(event);
  }

  async deliver(event: AlertEvent): Promise<DeliveryResult> {
    // A station id put in by BatchPutMessage may hold what no topic level can: refuse it for good, not forever.
    if (!/^[^/+#]+$/.test(event.alert.stationId)) return { ok: false, permanent: true, reason: `station id ${JSON.stringify(event.alert.stationId)} cannot be an MQTT topic level` };
    if (!this.client.connected) return { ok: false, permanent: false, reason: 'not connected to the broker' };
    const payload = JSON.stringify({ ...event.alert, headline: event.headline, detail: event.detail });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<DeliveryResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, permanent: false, reason: `no PUBACK within ${this.timeoutMs} ms` }), this.timeoutMs);
    });
    const published = this.client
      .publishAsync(this.topicOf(event), payload, { qos: 1, retain: true })
      .then((): DeliveryResult => ({ ok: true }))
      .catch((error: unknown): DeliveryResult => ({ ok: false, permanent: false, reason: error instanceof Error ? error.message : String(error) }));
    try {
      return await Promise.race([published, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
