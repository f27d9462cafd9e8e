import type { Logger } from 'pino';
import type { CappedRow } from './outbox-cap.ts';

/**
 * Records the `block` policy holds in memory while the outbox is at its cap: about a day at one
 * record per 5 minutes, a few hundred kB at most, so a Pi's memory is never at risk.
 */
export const DEFAULT_HOLD_RECORDS = 300;

/** Records that did not fit while full: counted in the outbox's dropped total, logged once with their range. */
interface Overflow {
  records: number;
  fromTs: number;
  toTs: number;
}

/**
 * What `block` does with records that do not fit under the cap: keeps the oldest waiting ones in
 * memory (they go in first once the uplink frees room), and past `limit` counts the rest as one
 * drop with its time range. Logs when the state changes (full, overflowing, room again), never per record.
 */
export class HeldRecords<T extends CappedRow> {
  private rows: T[] = [];
  private overflow: Overflow | null = null;
  /** Whether the last append left records waiting: the state whose changes are logged. */
  private holding = false;

  constructor(
    private readonly limit: number,
    private readonly log: Logger,
    private readonly where: string,
  ) {}

  get size(): number {
    return this.rows.length;
  }

  /** The held rows, oldest first, to be tried before a new batch. */
  take(): T[] {
    const rows = this.rows;
    this.rows = [];
    return rows;
  }

  /**
   * Keeps `waiting` (what did not fit, oldest first) up to the limit; returns how many records
   * beyond it were given up, for the caller to add to the dropped total.
   */
  keep(waiting: T[], capBytes: number, wrote: number): number {
    this.rows = waiting.slice(0, this.limit);
    const lost = waiting.slice(this.limit);
    if (waiting.length === 0) {
      if (this.holding) this.roomAgain(wrote);
      this.holding = false;
      return 0;
    }
    if (!this.holding) {
      this.holding = true;
      this.log.warn(
        { capBytes, held: this.rows.length },
        `outbox ${this.where} is at its cap of ${capBytes} bytes (policy block): holding new records in memory ` +
          `(up to ${this.limit}) until the uplink drains it`,
      );
    }
    if (lost.length === 0) return 0;
    if (this.overflow === null) {
      this.log.error(
        { capBytes, held: this.limit },
        `outbox ${this.where} is still full and ${this.limit} records are held in memory: dropping newer records, ` +
          `counted, until the uplink frees room (raise outbox.capBytes or fix the uplink)`,
      );
    }
    this.count(lost);
    return lost.length;
  }

  /** At close: the held records are lost with the process, so they join the drop. Returns how many. */
  abandon(): number {
    const rows = this.take();
    if (rows.length > 0) this.count(rows);
    if (this.overflow) this.reportOverflow('the outbox closed while full');
    this.holding = false;
    return rows.length;
  }

  private count(rows: T[]): void {
    this.overflow ??= { records: 0, fromTs: Infinity, toTs: -Infinity };
    for (const row of rows) {
      this.overflow.records += 1;
      this.overflow.fromTs = Math.min(this.overflow.fromTs, row.ts);
      this.overflow.toTs = Math.max(this.overflow.toTs, row.ts);
    }
  }

  private roomAgain(wrote: number): void {
    if (this.overflow) this.reportOverflow(`room again: wrote ${wrote} held records`);
    else this.log.info(`outbox ${this.where} has room again: wrote ${wrote} held records`);
  }

  private reportOverflow(why: string): void {
    const drop = this.overflow!;
    this.overflow = null;
    if (drop.records === 0) return;
    this.log.warn(
      { dropped: drop.records, fromTs: drop.fromTs, toTs: drop.toTs, policy: 'block' },
      `outbox ${this.where} (${why}): dropped ${drop.records} records (policy block) from ` +
        `${new Date(drop.fromTs).toISOString()} to ${new Date(drop.toTs).toISOString()}`,
    );
  }
}
