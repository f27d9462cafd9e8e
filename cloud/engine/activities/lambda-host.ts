import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { entryFile } from '../code-location.ts';
import { InvalidRequestException } from '../errors.ts';

/**
 * Runs lambda activities: `<lambdaDir>/<lambdaName>.{ts,mts,js,mjs}` whose default export takes an
 * array of messages and returns (or resolves to) the array to pass on, like an AWS Lambda handler.
 * In a folder outside an ESM package (no `"type": "module"` above it) use .mts or .mjs.
 * A message whose payload was not a JSON object (binary data) arrives as `{ payload: Uint8Array }`,
 * the bytes exactly as sent; return it decoded into attributes, e.g. `{ temperature: 21.5 }`. Only
 * lambda sees such messages: every other activity and the datastore refuse them (cloud/engine/binary-messages.ts).
 * Each module lives in its own worker thread, so a lambda that loops forever is stopped by
 * terminating its worker when the timeout passes, and the engine keeps running.
 */

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const WORKER_FILE = entryFile(new URL('./lambda-worker.js', import.meta.url));
/** The longest a module may take to load in its worker, beyond the activity's own timeout. */
const STARTUP_LIMIT_MS = 30_000;

export class LambdaError extends Error {}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

class LambdaWorker {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly timeoutMs: number,
  ) {}

  /** Calls are queued: one batch at a time per module, as one Lambda container handles one event. */
  invoke(messages: unknown[]): Promise<unknown> {
    const run = this.queue.then(() => this.call(messages));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(WORKER_FILE, { workerData: { file: this.file } });
    this.worker = worker;
    this.ready = new Promise<void>((resolveReady, rejectReady) => {
      worker.on('message', (message: { ready?: boolean; id?: number; ok?: boolean; result?: unknown; error?: string }) => {
        if (message.ready) return resolveReady();
        const pending = this.pending.get(message.id ?? -1);
        if (!pending) return;
        this.pending.delete(message.id!);
        clearTimeout(pending.timer);
        if (message.ok) pending.resolve(message.result);
        else pending.reject(new LambdaError(message.error ?? 'the lambda failed'));
      });
      // A terminated worker's late events must not touch its replacement.
      worker.on('error', (error) => {
        rejectReady(new LambdaError(`the module failed to load: ${error.message}`));
        if (this.worker !== worker) return;
        this.failAll(new LambdaError(error.message));
        this.reset();
      });
      worker.on('exit', () => {
        rejectReady(new LambdaError('the lambda worker exited before it was ready'));
        if (this.worker !== worker) return;
        this.failAll(new LambdaError('the lambda worker exited'));
        this.reset();
      });
    });
    return this.ready;
  }

  private async call(messages: unknown[]): Promise<unknown> {
    const timeout = this.timeoutMs;
    const ready = this.start();
    const worker = this.worker!;
    const id = this.nextId++;
    return new Promise((resolveCall, rejectCall) => {
      const stop = (message: string) => () => {
        this.pending.delete(id);
        rejectCall(new LambdaError(message));
        void this.terminate();
      };
      // Loading the module (tsx compiling a .ts one, on a busy Pi) has its own limit, as a Lambda's
      // init phase had: only the handler's own run counts against the activity's timeout.
      const loading = Math.max(timeout, STARTUP_LIMIT_MS);
      const pending: Pending = { resolve: resolveCall, reject: rejectCall, timer: setTimeout(stop(`the lambda module did not load within ${loading} ms`), loading) };
      this.pending.set(id, pending);
      ready.then(
        () => {
          if (!this.pending.has(id)) return;
          clearTimeout(pending.timer);
          pending.timer = setTimeout(stop(`the lambda ran longer than ${timeout} ms and was stopped`), timeout);
          worker.postMessage({ id, messages });
        },
        (error: Error) => {
          clearTimeout(pending.timer);
          this.pending.delete(id);
          rejectCall(error);
        },
      );
    });
  }

  private failAll(error: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }

  private reset(): void {
    this.worker = undefined;
    this.ready = undefined;
  }

  async terminate(): Promise<void> {
    const worker = this.worker;
    this.reset();
    if (worker) await worker.terminate();
  }
}

export class LambdaHost {
  private readonly workers = new Map<string, LambdaWorker>();

  constructor(
    private readonly options: { dir: string; timeoutMs: number; log: Logger },
  ) {}

  /** The module file of a lambda, or InvalidRequestException naming the folder it was looked for in. */
  resolve(lambdaName: string): string {
    const dir = resolve(this.options.dir);
    for (const extension of EXTENSIONS) {
      const file = join(dir, `${lambdaName}${extension}`);
      if (existsSync(file)) return file;
    }
    throw new InvalidRequestException(
      `Lambda "${lambdaName}" not found: put ${lambdaName}.ts or ${lambdaName}.js (default export: messages => messages) in ${dir}.`,
    );
  }

  async invoke(lambdaName: string, messages: unknown[]): Promise<unknown> {
    const file = this.resolve(lambdaName);
    let worker = this.workers.get(file);
    if (!worker) {
      worker = new LambdaWorker(file, this.options.timeoutMs);
      this.workers.set(file, worker);
    }
    return worker.invoke(messages);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.terminate()));
    this.workers.clear();
  }
}
