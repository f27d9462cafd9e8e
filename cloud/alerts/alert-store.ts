import { z } from 'zod';
import type { CloudStore } from '../storage/cloud-store.ts';
import type { AlertChange, StationState } from './alert-evaluator.ts';
import { alertEventSchema, alertSchema, type Alert, type AlertEvent } from './alert-model.ts';

/**
 * The alert engine's state in the engine's CloudStore, so every engine on one database shares it:
 * each station's cursor and evaluation state, every alert, and the delivery outbox. One transaction
 * per station's batch writes all three, so a restart neither re-sends an alert (the cursor moved with
 * its outbox rows) nor forgets one (the rows exist before anything is sent). This file parses what the
 * store returns with the alert schemas.
 */

/** Where alert state was kept before it moved into the store; an old file is adopted once (alert-adoption.ts). */
export const ALERTS_FILE = 'alerts.sqlite';
/** Delivered and permanently failed outbox rows are kept this long, for a look back, then removed. */
const KEEP_DONE_MS = 7 * 24 * 3600_000;

export const stationStateSchema = z.object({
  cursor: z.number(),
  rain: z.array(z.tuple([z.number(), z.number()])),
  active: z.partialRecord(z.enum(['frost', 'heavy-rain', 'high-wind', 'offline']), alertSchema),
});

/** The CloudStore methods the alert engine uses. */
export type AlertStateStore = Pick<
  CloudStore,
  | 'getAlertStationState' | 'commitAlertState' | 'listAlerts' | 'dueAlertDeliveries' | 'nextAlertDue' | 'alertDeliveriesDueNow'
  | 'alertDelivered' | 'alertDeliveryFailed' | 'alertDeliveryRetry' | 'alertOutboxCounts' | 'pruneAlertOutbox' | 'claimLease' | 'releaseLease'
>;

export interface OutboxRow {
  seq: number;
  destination: string;
  event: AlertEvent;
  attempts: number;
}

export interface QueuedEvent {
  event: AlertEvent;
  destinations: readonly string[];
}

const stored = (alert: Alert) => ({ id: alert.id, stationId: alert.stationId, kind: alert.kind, startedAt: alert.startedAt, endedAt: alert.endedAt, body: alert });

export class AlertStore {
  constructor(private readonly store: AlertStateStore) {}

  async stationState(stationId: string): Promise<StationState | undefined> {
    const state = await this.store.getAlertStationState(stationId);
    return state === undefined ? undefined : stationStateSchema.parse(state);
  }

  /** Saves a station's state, its alert changes and the events to deliver, all or nothing. */
  async commit(stationId: string, state: StationState, changes: readonly AlertChange[], queued: readonly QueuedEvent[], now: number): Promise<void> {
    // An active alert's worst value moves without an event: keep the stored copy current for the page.
    const alerts = [...changes.map((c) => c.alert), ...Object.values(state.active)].map(stored);
    const outbox = queued.flatMap(({ event, destinations }) => destinations.map((destination) => ({ eventId: event.eventId, destination, event })));
    await this.store.commitAlertState(stationId, state, alerts, outbox, now);
  }

  /**
   * For each of `destinations`, its oldest pending delivery, when that is due at `now`. One at a time per
   * destination and in order, so a retained MQTT end can never overtake its start.
   */
  async due(now: number, destinations: readonly string[]): Promise<OutboxRow[]> {
    const rows = await this.store.dueAlertDeliveries(now, destinations);
    return rows.map((r) => ({ ...r, event: alertEventSchema.parse(r.event) }));
  }

  /** When the next delivery falls due: the earliest of each destination's oldest pending row; undefined when none is pending. */
  nextDue(destinations: readonly string[]): Promise<number | undefined> {
    return this.store.nextAlertDue(destinations);
  }

  /** Makes a destination's waiting deliveries due now (its connection came back). */
  dueNow(destination: string, now: number): Promise<void> {
    return this.store.alertDeliveriesDueNow(destination, now);
  }

  delivered(seq: number, now: number): Promise<void> {
    return this.store.alertDelivered(seq, now);
  }

  failed(seq: number, reason: string, now: number): Promise<void> {
    return this.store.alertDeliveryFailed(seq, reason, now);
  }

  retryAt(seq: number, nextAt: number, error: string): Promise<void> {
    return this.store.alertDeliveryRetry(seq, nextAt, error);
  }

  /** Outbox rows by state, for tests and the log: pending, delivered, failed. */
  outboxCounts(): Promise<{ pending: number; delivered: number; failed: number }> {
    return this.store.alertOutboxCounts();
  }

  /** Removes outbox rows finished more than a week ago. */
  prune(now: number): Promise<void> {
    return this.store.pruneAlertOutbox(now - KEEP_DONE_MS);
  }

  /** Every alert of a station, oldest first (tests; the page reads through AlertHistory). */
  async alerts(stationId: string): Promise<Alert[]> {
    return (await this.store.listAlerts(stationId)).map((a) => alertSchema.parse(a));
  }

  /**
   * True while `holder` holds `key` (taken, renewed, or taken over once expired): of several engines on
   * one store, one evaluates and one delivers at a time.
   */
  lease(key: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    return this.store.claimLease(key, holder, ttlMs, now);
  }

  releaseLease(key: string, holder: string): Promise<void> {
    return this.store.releaseLease(key, holder);
  }
}
