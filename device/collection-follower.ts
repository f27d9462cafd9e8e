/**
 * The follower: every interval (with a little jitter, so boxes that started together do not ask
 * together) it asks each followed collection's URL for its latest version. A higher one is downloaded,
 * checked and swapped in over the installed folder, and `onReplaced` tells the box, which reloads it if
 * it is the collection playing. An engine that does not answer, or a bundle that fails its checks, costs
 * one warning with the reason: the installed collection stays as it was, and the next round tries again.
 */
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../hardware/core/clock.ts';
import type { Extension } from '../hardware/core/extension.ts';
import { lookUpPublished } from './collection-download.ts';
import { installBundle } from './collection-fetch.ts';
import { followedCollections, type CollectionSource } from './collection-source.ts';
import { repairInterruptedImports } from './museum-bundle-import.ts';

/** Up to this share of the interval is added to each wait. */
const JITTER = 0.1;

export interface FollowerOptions {
  collectionsDir: string;
  intervalMs: number;
  log: Logger;
  clock?: Clock;
  /** 0..1, for the jitter; default Math.random. */
  random?: () => number;
  /** Called with the folder of each collection replaced by a new version. */
  onReplaced?: (dir: string) => Promise<void> | void;
}

export class CollectionFollower implements Extension {
  readonly name = 'collection-follower';
  private timer: TimerHandle | undefined;
  private round: Promise<void> = Promise.resolve();
  private running = false;
  private readonly clock: Clock;

  constructor(private readonly options: FollowerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async start(): Promise<void> {
    this.running = true;
    await repairInterruptedImports(this.options.collectionsDir);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    // A round in progress finishes its swap: stopping half-way through is what the repair is for, not the plan.
    await this.round;
  }

  /** The round in progress, or the last one: resolves when it is done (tests with fake time wait on it). */
  idle(): Promise<void> {
    return this.round;
  }

  private schedule(): void {
    if (!this.running) return;
    const wait = this.options.intervalMs * (1 + JITTER * (this.options.random ?? Math.random)());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.round = this.checkAll().finally(() => this.schedule());
    }, wait);
  }

  /** One round: every followed collection, one after the other (a box's link and SD card are slow). */
  async checkAll(): Promise<void> {
    const { log, collectionsDir } = this.options;
    let followed;
    try {
      followed = await followedCollections(collectionsDir);
    } catch (error) {
      log.warn(`follow: cannot read ${collectionsDir} (${(error as Error).message}); trying again next round`);
      return;
    }
    for (const { dir, source } of followed) {
      if (!this.running) return;
      if (source instanceof Error) log.warn(`follow: ${source.message}`);
      else await this.check(dir, source);
    }
  }

  private async check(dir: string, source: CollectionSource): Promise<void> {
    const { log } = this.options;
    const name = basename(dir);
    try {
      const published = await lookUpPublished(source.url);
      if (published.version <= source.version) {
        log.debug(`follow: ${name} is at version ${source.version}, the latest at ${source.url}`);
        return;
      }
      await installBundle({
        bundle: published.bundleUrl,
        sha256: published.sha256,
        url: published.bundleUrl,
        collectionsDir: this.options.collectionsDir,
        as: name,
        source: { url: source.url, version: published.version },
        now: () => this.clock.now(),
        replace: true,
      });
      log.info(`follow: ${name} updated from version ${source.version} to ${published.version} ("${published.title}", ${published.objectCount} objects) from ${source.url}`);
      await this.options.onReplaced?.(dir);
    } catch (error) {
      log.warn(`follow: ${name} stays at version ${source.version}: ${(error as Error).message}; trying again in ${Math.round(this.options.intervalMs / 1000)} s`);
    }
  }
}
