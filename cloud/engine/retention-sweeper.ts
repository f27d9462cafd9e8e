import type { Extension } from '../../hardware/core/extension.ts';
import type { ChannelDefinition } from './channels.ts';
import type { DatasetContents } from './dataset-contents.ts';
import type { DatastoreDefinition } from './datastores.ts';
import { retentionCutoff, type EngineContext } from './engine-context.ts';

/**
 * Enforces retention periods in the background: channel messages and datastore rows older than
 * their resource's numberOfDays are deleted (in chunks, see the store), dataset versions are pruned.
 */
export class RetentionSweeper implements Extension {
  readonly name = 'cloud-retention';
  private timer: unknown;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly contents: DatasetContents,
  ) {}

  async start(): Promise<void> {
    this.schedule();
  }

  private schedule(): void {
    // Returned as well, for a test's clock to wait on (as the dataset scheduler's): the next period's timer
    // is set only once this sweep's claim, a database round trip, has come back.
    this.timer = this.ctx.clock.setTimeout(() => {
      this.running = this.sweepThisPeriod()
        .then(() => undefined)
        .catch((error: unknown) => this.ctx.log.error({ err: error }, 'retention sweep failed; it runs again next time'))
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.schedule();
        });
      return this.running;
    }, this.ctx.settings.retentionSweepMs);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Resolves once the timer's sweep in progress, if any, has finished and the next one is due. */
  async idle(): Promise<void> {
    await this.running;
  }

  /**
   * The timer's sweep: several workers on one database sweep once per period between them, whoever
   * claims `retention:<period start>` first (a sweep is idempotent, so this saves work, not data).
   * Returns undefined when another worker has the period.
   */
  async sweepThisPeriod(): Promise<{ channelMessages: number; datastoreRows: number } | undefined> {
    const period = this.ctx.settings.retentionSweepMs;
    const start = Math.floor(this.ctx.clock.now() / period) * period;
    if (!(await this.ctx.store.claimOnce(`retention:${start}`, this.ctx.clock.now()))) return undefined;
    return this.sweep();
  }

  /** One sweep over every channel, datastore and dataset; returns what was removed. */
  async sweep(): Promise<{ channelMessages: number; datastoreRows: number }> {
    const now = this.ctx.clock.now();
    let channelMessages = 0;
    let datastoreRows = 0;
    for (const channel of await this.ctx.store.listResources<ChannelDefinition>('channel')) {
      const cutoff = retentionCutoff(now, channel.definition.retentionPeriod);
      if (cutoff !== undefined) channelMessages += await this.ctx.store.expireChannelMessages(channel.name, cutoff);
    }
    for (const datastore of await this.ctx.store.listResources<DatastoreDefinition>('datastore')) {
      const cutoff = retentionCutoff(now, datastore.definition.retentionPeriod);
      if (cutoff !== undefined) datastoreRows += await this.ctx.store.expireDatastoreRows(datastore.name, cutoff);
    }
    for (const dataset of await this.ctx.store.listResources('dataset')) await this.contents.prune(dataset.name);
    if (channelMessages + datastoreRows > 0) this.ctx.log.info({ channelMessages, datastoreRows }, 'retention removed expired data');
    return { channelMessages, datastoreRows };
  }
}
