import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { forkTarget } from '../engine/code-location.ts';
import type { TranslatedQuery } from '../query/query-types.ts';
import type { QueryResult, QueryRows } from './cloud-store.ts';
import { timedOut } from './query-output.ts';

/**
 * Runs dataset queries in long-lived child processes, up to `concurrency` at once (one query per
 * process), each with a time limit, so one slow dataset does not hold up every other. On timeout the
 * child is killed (the only way to stop SQLite mid-statement from Node) and a fresh one starts with
 * that slot's next query. Queries beyond the limit wait in arrival order.
 */

export class QueryError extends Error {}

export interface QueryRunnerOptions {
  /** Queries that run at once, each in its own process. */
  concurrency: number;
  /** Result caps, enforced in the query process; the settings keys are named in the reasons. */
  maxRows: number;
  maxBytes: number;
}

export const DEFAULT_RUNNER_OPTIONS: QueryRunnerOptions = { concurrency: 2, maxRows: 1_000_000, maxBytes: 256 * 1024 * 1024 };

/** How long the query process may take to start (from the sources, tsx compiles on first run). */
const STARTUP_LIMIT_MS = 30_000;
/** The query process: through tsx from the sources, its compiled entry point from a build. */
const PROCESS = forkTarget(new URL('./sqlite-query-process.ts', import.meta.url));

const STOPPED = 'the query engine stopped before the query could start; run it again';

interface Reply {
  ready?: boolean;
  id?: number;
  ok?: boolean;
  columns?: string[];
  rowCount?: number;
  rows?: unknown[][];
  error?: string;
}

/** One process and the query it runs. */
interface Slot {
  child: ChildProcess | undefined;
  ready: Promise<void> | undefined;
  busy: boolean;
}

export class SqliteQueryRunner {
  private readonly slots: Slot[];
  private readonly queued: { resolve: (slot: Slot) => void; reject: (error: Error) => void }[] = [];
  private nextId = 1;
  /** Counts stop() calls: a query that was waiting for its turn when the runner stopped does not start. */
  private generation = 0;
  /** Replies awaited, with the process each was sent to (a killed process fails only its own). */
  private readonly waiting = new Map<number, { child: ChildProcess; done: (reply: Reply) => void }>();

  constructor(private readonly file: string, private readonly options: QueryRunnerOptions = DEFAULT_RUNNER_OPTIONS) {
    this.slots = Array.from({ length: Math.max(1, options.concurrency) }, () => ({ child: undefined, ready: undefined, busy: false }));
  }

  /** Queries running and queries waiting for a free process. */
  get load(): { running: number; queued: number } {
    return { running: this.slots.filter((s) => s.busy).length, queued: this.queued.length };
  }

  async run(query: TranslatedQuery, outFile: string, timeoutMs: number): Promise<QueryResult> {
    const overran = timedOut(timeoutMs);
    const reply = await this.inTurn(query, { outFile, maxRows: this.options.maxRows }, timeoutMs, overran);
    return { columns: reply.columns ?? [], rowCount: reply.rowCount ?? 0 };
  }

  /** The result rows themselves (CloudStore.queryRows): at most `maxRows`, else it fails saying so. */
  async rows(query: TranslatedQuery, options: { timeoutMs: number; maxRows: number }): Promise<QueryRows> {
    const overran = `the query ran longer than ${options.timeoutMs} ms and was stopped; narrow it (a shorter time range)`;
    const reply = await this.inTurn(query, { maxRows: options.maxRows }, options.timeoutMs, overran);
    return { columns: reply.columns ?? [], rows: reply.rows ?? [] };
  }

  private async inTurn(query: TranslatedQuery, output: { outFile?: string; maxRows: number }, timeoutMs: number, overran: string): Promise<Reply> {
    const generation = this.generation;
    const slot = await this.acquire();
    try {
      if (generation !== this.generation) throw new QueryError(STOPPED);
      return await this.execute(slot, query, output, timeoutMs, overran);
    } finally {
      this.release(slot);
    }
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve, reject) => this.queued.push({ resolve, reject }));
  }

  private release(slot: Slot): void {
    const next = this.queued.shift();
    if (next) next.resolve(slot);
    else slot.busy = false;
  }

  private start(slot: Slot): Promise<void> {
    if (slot.ready) return slot.ready;
    const child = fork(PROCESS.module, PROCESS.args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    slot.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    slot.ready = new Promise<void>((resolve, reject) => {
      child.on('message', (reply: Reply) => {
        if (reply.ready) return resolve();
        const waiter = this.waiting.get(reply.id ?? -1);
        this.waiting.delete(reply.id ?? -1);
        waiter?.done(reply);
      });
      child.on('exit', (code, signal) => {
        const reason = `the query process ended (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`;
        reject(new QueryError(reason));
        for (const [id, waiter] of this.waiting) {
          if (waiter.child !== child) continue;
          this.waiting.delete(id);
          waiter.done({ id, ok: false, error: reason });
        }
        if (slot.child !== child) return;
        slot.child = undefined;
        slot.ready = undefined;
      });
    });
    return slot.ready;
  }

  private async execute(slot: Slot, query: TranslatedQuery, output: { outFile?: string; maxRows: number }, timeoutMs: number, overran: string): Promise<Reply> {
    const started = this.start(slot);
    const child = slot.child!;
    // The time limit counts from when the query is sent: starting the process is not the query's fault.
    const ready = await Promise.race([
      started.then(() => undefined, (error: Error) => error.message),
      new Promise<string>((resolve) => setTimeout(() => resolve('the query process did not start'), STARTUP_LIMIT_MS).unref()),
    ]);
    if (ready !== undefined) {
      this.kill(slot, child);
      throw new QueryError(ready);
    }
    const id = this.nextId++;
    const { outFile } = output;
    const reply = await new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ id, ok: false, error: overran });
        this.kill(slot, child);
        if (outFile !== undefined) rmSync(`${outFile}.partial`, { force: true });
      }, timeoutMs);
      this.waiting.set(id, {
        child,
        done: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      const { sql, params } = query;
      child.send(outFile === undefined ? { id, file: this.file, sql, params, rows: true, maxRows: output.maxRows } : { id, file: this.file, sql, params, outFile, maxRows: output.maxRows, maxBytes: this.options.maxBytes });
    });
    if (!reply.ok) throw new QueryError(reply.error ?? 'the query failed');
    return reply;
  }

  private kill(slot: Slot, child: ChildProcess): void {
    if (slot.child === child) {
      slot.child = undefined;
      slot.ready = undefined;
    }
    child.kill('SIGKILL');
  }

  /** Ends the processes; queries running fail with "the query process ended", queries waiting fail too. */
  async stop(): Promise<void> {
    this.generation += 1;
    for (const waiter of this.queued.splice(0)) waiter.reject(new QueryError(STOPPED));
    await Promise.all(this.slots.map((slot) => this.stopSlot(slot)));
  }

  private async stopSlot(slot: Slot): Promise<void> {
    const child = slot.child;
    slot.child = undefined;
    slot.ready = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // Read-only work only: killing it can lose nothing.
      child.kill('SIGKILL');
    });
  }
}
