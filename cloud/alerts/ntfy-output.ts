import type { AlertEvent } from './alert-model.ts';
import { notifiable, type AlertOutput, type DeliveryResult } from './alert-output.ts';
import type { NtfySettings } from './alert-settings.ts';
import { postOnce } from './http-delivery.ts';

/**
 * Alerts to a phone through ntfy (https://docs.ntfy.sh/publish/): a POST to the topic's URL whose body
 * is the message, with the Title, Priority and Tags headers. A start goes at the configured priority, an
 * end one lower, so "frost over" does not ring like "frost now".
 */

const TAGS: Record<AlertEvent['alert']['kind'], string> = {
  frost: 'snowflake',
  'heavy-rain': 'cloud_with_rain',
  'high-wind': 'dash',
  offline: 'electric_plug',
};

/** ntfy reads non-ASCII header values only when RFC 2047 encoded. */
function headerText(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

export class NtfyOutput implements AlertOutput {
  readonly name = 'ntfy';

  constructor(
    private readonly settings: NtfySettings,
    private readonly timeoutMs: number,
  ) {}

  wants(event: AlertEvent): boolean {
    return notifiable(event);
  }

  deliver(event: AlertEvent): Promise<DeliveryResult> {
    const start = event.type === 'start';
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=utf-8',
      title: headerText(`${event.alert.stationId}: ${event.headline}`),
      priority: String(start ? this.settings.priority : Math.max(1, this.settings.priority - 1)),
      tags: start ? `warning,${TAGS[event.alert.kind]}` : `white_check_mark,${TAGS[event.alert.kind]}`,
    };
    if (this.settings.token) headers.authorization = `Bearer ${this.settings.token}`;
    return postOnce(this.settings.url, { headers, body: event.detail }, this.timeoutMs);
  }
}
