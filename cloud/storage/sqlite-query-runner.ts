import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { forkTarget } from '../code-location.ts';
import type { TranslatedQuery } from '../sql/query-types.ts';
import type { QueryResult } from './cloud-store.ts';

/**
 * Runs dataset queries in one long-lived child process, one at a time, each with a time limit. On
 * timeout the child is killed (the only way to stop SQLite mid-statement from Node) and a fresh one
 * starts with the next query.
 */

export class QueryError extends Error {}

/** How long the query process may take to start (from the sources, tsx compiles on first run). */
const STARTUP_LIMIT_MS = 30_000;
/** The query process: through tsx from the sources, its compiled entry point from a build. */
const PROCESS = forkTarget(new URL('./sqlite-query-process.ts', import.meta.url));

interface Reply {
  ready?: boolean;
  id?: number;
  ok?: boolean;
  columns?: string[];
  rowCount?: number;
  error?: string;
}

export class SqliteQueryRunner {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  /** Replies awaited, with the process each was sent to (a killed process fails only its own). */
  private readonly waiting = new Map<number, { child: ChildProcess; done: (reply: Reply) => void }>();

  constructor(private readonly file: string) {}

  run(query: TranslatedQuery, outFile: string, timeoutMs: number): Promise<QueryResult> {
    const result = this.queue.then(() => this.execute(query, outFile, timeoutMs));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const child = fork(PROCESS.module, PROCESS.args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    this.ready = new Promise<void>((resolve, reject) => {
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
        if (this.child !== child) return;
        this.child = undefined;
        this.ready = undefined;
      });
    });
    return this.ready;
  }

  private async execute(query: TranslatedQuery, outFile: string, timeoutMs: number): Promise<QueryResult> {
    const started = this.start();
    const child = this.child!;
    // The time limit counts from when the query is sent: starting the process is not the query's fault.
    const ready = await Promise.race([
      started.then(() => undefined, (error: Error) => error.message),
      new Promise<string>((resolve) => setTimeout(() => resolve('the query process did not start'), STARTUP_LIMIT_MS).unref()),
    ]);
    if (ready !== undefined) {
      this.kill(child);
      throw new QueryError(ready);
    }
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ id, ok: false, error: `the query ran longer than ${timeoutMs} ms and was stopped; narrow it (WHERE on time) or raise cloud.queryTimeoutMs` });
        this.kill(child);
        rmSync(`${outFile}.partial`, { force: true });
      }, timeoutMs);
      this.waiting.set(id, {
        child,
        done: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      child.send({ id, file: this.file, sql: query.sql, params: query.params, outFile });
    });
    if (!reply.ok) throw new QueryError(reply.error ?? 'the query failed');
    return { columns: reply.columns ?? [], rowCount: reply.rowCount ?? 0 };
  }

  private kill(child: ChildProcess): void {
    if (this.child === child) {
      this.child = undefined;
      this.ready = undefined;
    }
    child.kill('SIGKILL');
  }

  /** Ends the process; a query still running fails with "the query process ended". */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // Read-only work only: killing it can lose nothing.
      child.kill('SIGKILL');
    });
  }
}
