import type { AlertEvent } from './alert-model.ts';

/**
 * One destination of alert events (the alerts dataset, MQTT, ntfy, a webhook). The outbox calls
 * deliver() until it answers ok or permanent; it never calls it twice at once for one destination.
 */
export type DeliveryResult = { ok: true } | { ok: false; permanent: boolean; reason: string };

export interface AlertOutput {
  /** The outbox's destination name, e.g. "ntfy"; stored with each queued event. */
  readonly name: string;
  /** Whether this output takes this event (ntfy, webhook and MQTT skip history: alert.notify false). */
  wants(event: AlertEvent): boolean;
  deliver(event: AlertEvent): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

/** Events of alerts recent enough to notify; an end is sent only when its start was. */
export const notifiable = (event: AlertEvent): boolean => event.alert.notify;
