import { createHmac } from 'node:crypto';
import type { AlertEvent } from './alert-model.ts';
import { notifiable, type AlertOutput, type DeliveryResult } from './alert-output.ts';
import type { WebhookSettings } from './alert-settings.ts';
import { postOnce } from './http-delivery.ts';

/**
 * Alert events POSTed as JSON (the AlertEvent shape: eventId, type, at, alert, headline, detail).
 * X-Hedgerow-Event carries the eventId, so a receiver can drop a repeat (delivery is at least once).
 * With a secret, X-Hedgerow-Signature is `sha256=` + hex HMAC-SHA256 of the exact body bytes.
 */

export const SIGNATURE_HEADER = 'x-hedgerow-signature';
export const EVENT_HEADER = 'x-hedgerow-event';

export function signatureOf(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export class WebhookOutput implements AlertOutput {
  readonly name = 'webhook';

  constructor(
    private readonly settings: WebhookSettings,
    private readonly timeoutMs: number,
  ) {}

  wants(event: AlertEvent): boolean {
    return notifiable(event);
  }

  deliver(event: AlertEvent): Promise<DeliveryResult> {
    const body = JSON.stringify(event);
    const headers: Record<string, string> = { ...this.settings.headers, 'content-type': 'application/json', [EVENT_HEADER]: event.eventId };
    if (this.settings.secret) headers[SIGNATURE_HEADER] = signatureOf(body, this.settings.secret);
    return postOnce(this.settings.url, { headers, body }, this.timeoutMs);
  }
}
