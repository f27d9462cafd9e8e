import { z } from 'zod';

/**
 * An alert and the events it sends, as one schema: the store writes them, the outbox and the page read
 * them back through it, and MQTT, the webhook and the alerts dataset carry this shape as JSON.
 */

export const ALERT_KINDS = ['frost', 'heavy-rain', 'high-wind', 'offline'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const alertSchema = z.object({
  /** `<stationId>/<kind>/<startedAt>`: the same alert gets the same id after a restart. */
  id: z.string(),
  kind: z.enum(ALERT_KINDS),
  stationId: z.string(),
  /** Epoch ms of the record that raised it (offline: when the silence passed the limit). */
  startedAt: z.number(),
  /** Epoch ms of the record that ended it; null while active. */
  endedAt: z.number().nullable(),
  /** The value that raised it and the threshold it crossed: °C, mm, km/h, or minutes without a record. */
  value: z.number(),
  threshold: z.number(),
  /** The most extreme value while it lasted (coldest, wettest, windiest, longest silence). */
  worst: z.number(),
  /** Heavy rain only: which total raised it, the last hour's or the last 24 hours'. */
  measure: z.enum(['hour', 'day']).nullable(),
  /** Whether its start was recent enough to notify (false: history found in a backfill or a long outage). */
  notify: z.boolean(),
});
export type Alert = z.output<typeof alertSchema>;

export const alertEventSchema = z.object({
  /** `<alert id>/<type>`: a receiver drops a repeat by it (delivery is at least once). */
  eventId: z.string(),
  type: z.enum(['start', 'end']),
  /** Epoch ms the event happened (startedAt or endedAt). */
  at: z.number(),
  alert: alertSchema,
  /** The alert in plain words, as the page shows it. */
  headline: z.string(),
  detail: z.string(),
});
export type AlertEvent = z.output<typeof alertEventSchema>;

export const alertId = (stationId: string, kind: AlertKind, startedAt: number): string => `${stationId}/${kind}/${startedAt}`;
