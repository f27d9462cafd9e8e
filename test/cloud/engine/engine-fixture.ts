import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import type { EngineClock } from '../../../cloud/engine/engine-context.ts';
import { cloudSettings, type CloudSettings } from '../../../cloud/settings.ts';
import type { CloudStore } from '../../../cloud/storage/cloud-store.ts';
import { testStorage } from '../helpers/test-storage.ts';

/** Time that only moves when a test says so; timers fire in order as it moves. */
export class FakeTime implements EngineClock {
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;

  constructor(private current = Date.UTC(2024, 0, 1)) {}

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in time order and letting their async work settle. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.current = Math.max(this.current, due[1].at);
      // The engine's timers return their work (a trigger's claim, a sweep): a store's round trip takes
      // longer than any fixed pause, and time must not pass the next timer before this one has set it.
      const work: unknown = due[1].callback();
      if (work instanceof Promise) await work.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.current = target;
  }
}

export interface EngineFixture {
  engine: AnalyticsEngine;
  time: FakeTime;
  dir: string;
  settings: CloudSettings;
  close(): Promise<void>;
}

/** Makes the store for an engine (default: the engine's own SQLite store in its folder). */
export type StoreFactory = (settings: CloudSettings) => Promise<CloudStore>;

export async function startEngine(overrides: Record<string, unknown> = {}, time = new FakeTime(), storage?: StoreFactory): Promise<EngineFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-engine-'));
  const settings = cloudSettings.parse({ dataDir: dir, resourceFiles: [], mqtt: { enabled: false }, ...(storage ? {} : await testStorage(dir)), ...overrides });
  let id = 0;
  const engine = new AnalyticsEngine({
    ...(storage ? { store: await storage(settings) } : {}),
    settings,
    log: pino({ level: 'silent' }),
    clock: time,
    newId: () => `00000000-0000-4000-8000-${String(++id).padStart(12, '0')}`,
  });
  await engine.start();
  return {
    engine,
    time,
    dir,
    settings,
    async close() {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A datastore's rows as dataset SQL sees them (its view), read through the engine's store on either backend. */
export async function datastoreRows(engine: AnalyticsEngine, datastore = 'ds'): Promise<Record<string, unknown>[]> {
  const query = { sql: `SELECT * FROM "${datastore}"`, params: [], datastores: [datastore] };
  const { columns, rows } = await engine.store.queryRows(query, { timeoutMs: 30_000, maxRows: 100_000 });
  return rows.map((row) => Object.fromEntries(columns.map((column, i) => [column, row[i]])));
}

export const message = (messageId: string, body: unknown) => ({ messageId, payload: Buffer.from(JSON.stringify(body)) });

/** The usual small setup: channel → activities → datastore. */
export async function createFlow(engine: AnalyticsEngine, activities: Record<string, unknown>[] = [], names = { channel: 'ch', datastore: 'ds', pipeline: 'pl' }) {
  await engine.createChannel({ channelName: names.channel });
  await engine.createDatastore({ datastoreName: names.datastore });
  const chain = [
    { channel: { name: 'in', channelName: names.channel, next: activities.length > 0 ? 'a0' : 'out' } },
    ...activities.map((a, i) => {
      const [kind, spec] = Object.entries(a)[0]!;
      return { [kind]: { ...(spec as object), name: `a${i}`, next: i === activities.length - 1 ? 'out' : `a${i + 1}` } };
    }),
    { datastore: { name: 'out', datastoreName: names.datastore } },
  ];
  await engine.createPipeline({ pipelineName: names.pipeline, pipelineActivities: chain });
}
