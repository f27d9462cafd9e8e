import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EngineClock } from '../engine/engine-context.ts';
import type { AlertOutput, DeliveryResult } from './alert-output.ts';
import type { DeliverySettings } from './alert-settings.ts';
import type { AlertStore, OutboxRow } from './alert-store.ts';

/**
 * Works the outbox: each queued event is delivered at least once to each destination, in order per
 * destination. A failure that may pass (5xx, 408, 429, a timeout, a refused connection) is retried
 * after an exponential delay with jitter, capped; any other 4xx is permanent and logged once with its
 * reason. A row is marked only after its answer, so an engine stopped (or killed) mid-delivery sends it
 * again on the next start: a repeat is possible, a loss is not.
 * Several engines on one store: a pump holds the store's lease `alerts:deliver` while it works and
 * gives it up when nothing is due, so one engine sends at a time and a row is never sent by two at once.
 */

const DELIVER_LEASE = 'alerts:deliver';
/** Beyond the delivery timeout, how long the lease outlives its last renewal (an engine killed mid-delivery). */
const LEASE_MARGIN_MS = 60_000;
/** When another engine holds the lease (it may have let go just after we asked) or the store failed, look again this much later. */
const RECHECK_MS = 5_000;

export class AlertDelivery {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** The last pump found the lease held by another engine. */
  private heldElsewhere = false;
  private readonly holder = randomUUID();

  constructor(
    private readonly store: AlertStore,
    private readonly outputs: readonly AlertOutput[],
    private readonly clock: EngineClock,
    private readonly settings: DeliverySettings,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Delivers what is due now (new events were queued); called again while running, it runs once more after. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.clock.clearTimeout(this.timer);
    // The next timer is set before `running` ends, so idle() covers it.
    this.running = this.pump()
      .then(() => (this.again ? undefined : this.schedule()))
      .catch((err: unknown) => {
        this.log.error({ err }, `alerts: cannot work the outbox; trying again in ${RECHECK_MS / 1000} s`);
        if (!this.stopped) this.timer = this.clock.setTimeout(() => this.kick(), RECHECK_MS);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once no delivery is in flight (tests; a retry may still be scheduled). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Waits for deliveries in flight (each ends within timeoutMs) and stops; pending rows stay for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    await this.running;
  }

  /** The delay before retry number `attempt` (0-based): base·2^attempt, capped, times a jitter in [0.5, 1). */
  retryDelay(attempt: number): number {
    const exponential = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** Math.min(attempt, 30));
    return Math.round(exponential * (0.5 + this.random() / 2));
  }

  private names(): string[] {
    return this.outputs.map((o) => o.name);
  }

  private async schedule(): Promise<void> {
    if (this.stopped) return;
    const next = await this.store.nextDue(this.names());
    if (next === undefined || this.stopped) return;
    const wait = Math.max(0, next - this.clock.now(), this.heldElsewhere ? RECHECK_MS : 0);
    this.timer = this.clock.setTimeout(() => this.kick(), wait);
  }

  private async pump(): Promise<void> {
    const leaseMs = this.settings.timeoutMs + LEASE_MARGIN_MS;
    this.heldElsewhere = false;
    try {
      for (;;) {
        if (this.stopped) return;
        if (!(await this.store.lease(DELIVER_LEASE, this.holder, leaseMs, this.clock.now()))) {
          this.heldElsewhere = true;
          return;
        }
        const rows = await this.store.due(this.clock.now(), this.names());
        if (rows.length === 0) return;
        // Destinations in parallel (a slow webhook must not hold up ntfy), each one's rows in order.
        await Promise.all(rows.map((row) => this.deliverOne(row)));
      }
    } finally {
      if (!this.heldElsewhere) await this.store.releaseLease(DELIVER_LEASE, this.holder);
    }
  }

  private async deliverOne(row: OutboxRow): Promise<void> {
    const output = this.outputs.find((o) => o.name === row.destination)!;
    let result: DeliveryResult;
    try {
      result = await output.deliver(row.event);
    } catch (error) {
      result = { ok: false, permanent: false, reason: error instanceof Error ? error.message : String(error) };
    }
    const now = this.clock.now();
    const about = { destination: row.destination, eventId: row.event.eventId, attempt: row.attempts + 1 };
    if (result.ok) {
      await this.store.delivered(row.seq, now);
      // The dataset takes every alert, the backfilled week's history included: one line each would bury the
      // start-up, so only what reached people or MQTT is said at info.
      const level = row.destination === 'dataset' ? 'debug' : 'info';
      this.log[level](about, `alert ${row.event.type} delivered to ${row.destination}`);
    } else if (result.permanent) {
      await this.store.failed(row.seq, result.reason, now);
      this.log.error({ ...about, reason: result.reason }, `alert ${row.event.type} refused by ${row.destination}, not retried: ${result.reason}; check the ${row.destination} entry in the alerts settings`);
    } else {
      const delay = this.retryDelay(row.attempts);
      await this.store.retryAt(row.seq, now + delay, result.reason);
      this.log.warn({ ...about, reason: result.reason, retryInMs: delay }, `alert ${row.event.type} not delivered to ${row.destination} (${result.reason}); retrying in ${Math.round(delay / 1000)} s`);
    }
  }
}
