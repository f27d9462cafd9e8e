import type { Extension } from '../../hardware/core/extension.ts';
import type { DatasetContents } from './dataset-contents.ts';
import type { DatasetDefinition } from './datasets.ts';
import type { EngineContext } from './engine-context.ts';
import { parseSchedule, type Schedule } from './schedule-expression.ts';
import type { ResourceRecord } from '../storage/cloud-store.ts';

/**
 * Fires dataset triggers: schedule triggers on one timer set for the earliest next time, and
 * dataset-after-dataset triggers when a triggering dataset's content SUCCEEDED. Rates count from
 * the dataset's creation, so restarts keep the same rhythm.
 */

/** setTimeout's longest delay; later times are reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface Entry {
  name: string;
  schedules: Schedule[];
  next: number | undefined;
}

export class DatasetScheduler implements Extension {
  readonly name = 'cloud-scheduler';
  private readonly entries = new Map<string, Entry>();
  private timer: unknown;
  /** Triggers being claimed and started: idle() waits for them, as each claim is a database round trip. */
  private readonly pending = new Set<Promise<void>>();
  private started = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly contents: DatasetContents,
    private readonly datasets: () => Promise<ResourceRecord<DatasetDefinition>[]>,
  ) {}

  async start(): Promise<void> {
    this.started = true;
    this.entries.clear();
    for (const record of await this.datasets()) this.add(record);
    this.arm();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.disarm();
  }

  private add(record: ResourceRecord<DatasetDefinition>): void {
    const schedules = record.definition.triggers.filter((t) => t.schedule?.expression).map((t) => parseSchedule(t.schedule!.expression!, record.createdAt));
    if (schedules.length === 0) return;
    const now = this.ctx.clock.now();
    this.entries.set(record.name.toLowerCase(), { name: record.name, schedules, next: earliest(schedules, now) });
  }

  /** Re-reads one dataset's triggers after it was created, updated or deleted. */
  async refresh(datasetName: string): Promise<void> {
    this.entries.delete(datasetName.toLowerCase());
    const record = (await this.datasets()).find((r) => r.name.toLowerCase() === datasetName.toLowerCase());
    if (record) this.add(record);
    if (this.started) this.arm();
  }

  /** When should the timer fire next (for tests and logs). */
  nextFire(): number | undefined {
    let next: number | undefined;
    for (const entry of this.entries.values()) if (entry.next !== undefined && (next === undefined || entry.next < next)) next = entry.next;
    return next;
  }

  private disarm(): void {
    if (this.timer !== undefined) this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.disarm();
    const next = this.nextFire();
    if (next === undefined || !this.started) return;
    const delay = Math.min(Math.max(0, next - this.ctx.clock.now()), MAX_DELAY_MS);
    // The work is returned too, so a test's clock can wait for the claim (a database round trip) before
    // moving on: otherwise time passes the next trigger before this one has armed it.
    this.timer = this.ctx.clock.setTimeout(() => {
      this.timer = undefined;
      const work = this.fire();
      this.track(work);
      return work;
    }, delay);
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** Resolves once every trigger that fired has been claimed and its content started (or skipped). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  private async fire(): Promise<void> {
    const now = this.ctx.clock.now();
    for (const entry of this.entries.values()) {
      if (entry.next === undefined || entry.next > now) continue;
      const scheduleTime = entry.next;
      entry.next = earliest(entry.schedules, now);
      // Several workers share the schedule: the one that claims the trigger in the database runs it.
      if (await this.claim(entry.name, scheduleTime)) await this.run(entry.name, scheduleTime);
    }
    this.arm();
  }

  private async claim(datasetName: string, scheduleTime: number): Promise<boolean> {
    try {
      return await this.ctx.store.claimOnce(`schedule:${datasetName.toLowerCase()}:${scheduleTime}`, this.ctx.clock.now());
    } catch (error) {
      this.ctx.log.error({ err: error, dataset: datasetName }, 'scheduled dataset trigger could not be claimed; it runs at the next trigger');
      return false;
    }
  }

  private async run(datasetName: string, scheduleTime: number): Promise<void> {
    try {
      const record = (await this.datasets()).find((r) => r.name.toLowerCase() === datasetName.toLowerCase());
      if (record) await this.contents.start(record.name, record.definition, scheduleTime);
    } catch (error) {
      this.ctx.log.error({ err: error, dataset: datasetName }, 'scheduled dataset content could not start');
    }
  }

  /** Starts every dataset that names `datasetName` as its triggering dataset. */
  triggeredBy(datasetName: string): Promise<void> {
    const work = this.runTriggeredBy(datasetName);
    this.track(work);
    return work;
  }

  private async runTriggeredBy(datasetName: string): Promise<void> {
    if (!this.started) return;
    for (const record of await this.datasets()) {
      if (record.definition.triggers.some((t) => t.dataset?.name.toLowerCase() === datasetName.toLowerCase())) {
        await this.run(record.name, this.ctx.clock.now());
      }
    }
  }
}

function earliest(schedules: Schedule[], after: number): number | undefined {
  let next: number | undefined;
  for (const schedule of schedules) {
    const t = schedule.next(after);
    if (t !== undefined && (next === undefined || t < next)) next = t;
  }
  return next;
}
