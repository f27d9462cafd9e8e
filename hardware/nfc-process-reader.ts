/**
 * The real NFC reader as the station sees it: the same NfcReader as PcscNfcReader, but every pcsclite
 * call runs in a child process (hardware/nfc-reader-process.ts). A pcsclite call that never returns
 * (a tag that stops answering mid-command, an ACR122U whose SCardControl hangs) once held the addon's
 * lock, and then reader.close() blocked the station's main thread for ever. Now it can block only the
 * child, which the watchdog here kills and starts again.
 *
 * The watchdog: each pcsclite call the child reports has a deadline, and the child sends a heartbeat;
 * a missed deadline or heartbeat kills the child (SIGKILL: a process stuck in a native lock answers
 * nothing else) and a new one starts after a growing delay. A worker thread would not do: a blocked
 * addon lock still blocks the process's exit.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { LedState } from './acr-reader-commands.ts';
import { fromReaderProcess, type FromReaderProcess, type PcscCall, type ToReaderProcess } from './nfc-ipc.ts';
import type { PcscNfcReaderOptions } from './nfc-reader.ts';
import type { NfcReader, NfcReaderEvents, TagInfo } from './nfc-types.ts';

export const DEFAULT_COMMAND_DEADLINE_MS = 5000;
const DEFAULT_HEARTBEAT_MS = 1000;
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 5000;
/** From the sources tsx compiles the child first, which takes a Pi a while. */
const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
/** Delays before each restart in a row; the last one repeats. */
const DEFAULT_RESTART_DELAYS_MS = [500, 1000, 2000, 5000, 10_000, 30_000] as const;
/** A child that ran this long before it failed starts the delays from the beginning again. */
const STABLE_MS = 60_000;
/** How long stop() lets the child close its readers before it kills it. */
const STOP_GRACE_MS = 2000;
const STDERR_TAIL = 2000;

export interface ProcessNfcReaderOptions extends Omit<PcscNfcReaderOptions, 'watch'> {
  /** How long one pcsclite call (UID read, NDEF page read, buzzer or LED command) may take. Default 5000 ms. */
  commandDeadlineMs?: number | undefined;
  /** How often the reader process says it is alive. Default 1000 ms. */
  heartbeatMs?: number | undefined;
  /** Silence after which the reader process counts as hung. Default 5000 ms. */
  heartbeatTimeoutMs?: number | undefined;
  /** How long the reader process may take to start. Default 30 s. */
  startupTimeoutMs?: number | undefined;
  /** Delays before restarts in a row, the last repeating. Default 0.5, 1, 2, 5, 10, 30 s. */
  restartDelaysMs?: readonly number[] | undefined;
}

/** The reader process: its compiled sibling in a build (an entry point of bin/build.js), or the .ts file through tsx. */
export function readerProcessTarget(): { module: string; args: string[] } {
  if (!import.meta.url.endsWith('.ts')) return { module: fileURLToPath(new URL('./nfc-reader-process.js', import.meta.url)), args: [] };
  return {
    module: fileURLToPath(new URL('../bin/run-ts.js', import.meta.url)),
    args: [fileURLToPath(new URL('./nfc-reader-process.ts', import.meta.url))],
  };
}

/** One reader process and what the parent knows of it. */
interface Child {
  process: ChildProcess;
  startedAt: number;
  heardAt: number | null;
  calls: Map<number, { call: PcscCall; what: string; reader: string; at: number }>;
  attached: Set<string>;
  ndef: Map<number, (texts: readonly string[]) => void>;
  watchdog: NodeJS.Timeout;
  killedBecause: string | null;
  stderr: string;
  exited: Promise<void>;
}

export class ProcessNfcReader extends EventEmitter<NfcReaderEvents> implements NfcReader {
  private child: Child | null = null;
  private running = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private failuresInARow = 0;
  private restartCount = 0;
  private nextNdef = 0;
  private readonly deadlineMs: number;
  private readonly heartbeatTimeoutMs: number;

  constructor(private readonly options: ProcessNfcReaderOptions) {
    super();
    this.deadlineMs = options.commandDeadlineMs ?? DEFAULT_COMMAND_DEADLINE_MS;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
  }

  /** How often the reader process was started again after it hung or ended. */
  get restarts(): number {
    return this.restartCount;
  }

  /** The reader process's id, while one runs. */
  get pid(): number | undefined {
    return this.child?.process.pid;
  }

  async start(): Promise<void> {
    this.running = true;
    this.spawn();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (!child) return;
    this.send(child, { type: 'stop' });
    if (!(await within(child.exited, STOP_GRACE_MS))) {
      this.options.log.warn(`NFC: the reader process did not close its reader within ${STOP_GRACE_MS / 1000} s (a pcsclite call hangs); killed it`);
      child.process.kill('SIGKILL');
      // A process in uninterruptible sleep (a USB reader wedged in the kernel) cannot even die: do not wait for ever.
      await within(child.exited, STOP_GRACE_MS);
    }
  }

  setLed(state: LedState): void {
    if (this.child) this.send(this.child, { type: 'led', state });
  }

  private spawn(): void {
    const target = readerProcessTarget();
    const process_ = fork(target.module, target.args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json', execArgv: [] });
    const tick = Math.max(50, Math.min(this.deadlineMs, this.heartbeatTimeoutMs) / 5);
    const child: Child = {
      process: process_,
      startedAt: Date.now(),
      heardAt: null,
      calls: new Map(),
      attached: new Set(),
      ndef: new Map(),
      watchdog: setInterval(() => this.check(child), tick).unref(),
      killedBecause: null,
      stderr: '',
      exited: new Promise((resolve) => process_.once('exit', () => resolve())),
    };
    this.child = child;
    // A station that dies without stop() must not leave a reader process holding the reader.
    const orphanGuard = () => process_.kill('SIGKILL');
    process.once('exit', orphanGuard);
    process_.stderr?.on('data', (chunk: Buffer) => (child.stderr = (child.stderr + chunk.toString()).slice(-STDERR_TAIL)));
    process_.on('message', (raw: unknown) => this.receive(child, raw));
    process_.on('error', (error) => {
      this.options.log.warn(`NFC: reader process: ${error.message}`);
      // It never started (no pid): no exit event is sure to follow.
      if (process_.pid === undefined) this.exited(child, error.message);
    });
    process_.once('exit', (code, signal) => {
      process.off('exit', orphanGuard);
      this.exited(child, signal ?? `code ${code}`);
    });
    const o = this.options;
    this.send(child, {
      type: 'start',
      options: {
        readerName: o.readerName,
        buzzer: o.buzzer,
        led: o.led,
        retryMs: o.retryMs,
        noReaderHintMs: o.noReaderHintMs,
        socketPath: o.socketPath,
        modulesPath: o.modulesPath,
        heartbeatMs: o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
        logLevel: o.log.level,
      },
    });
  }

  private send(child: Child, message: ToReaderProcess): void {
    if (!child.process.connected) return;
    // An error here means the child just went; its exit handler deals with that.
    child.process.send(message, (error) => void error);
  }

  private receive(child: Child, raw: unknown): void {
    const parsed = fromReaderProcess.safeParse(raw);
    if (!parsed.success) {
      this.options.log.debug(`NFC: ignored a malformed message from the reader process (${parsed.error.issues[0]?.message ?? 'invalid'})`);
      return;
    }
    if (this.child !== child) return;
    child.heardAt = Date.now();
    this.handle(child, parsed.data);
  }

  private handle(child: Child, message: FromReaderProcess): void {
    switch (message.type) {
      case 'ready':
      case 'heartbeat':
        return;
      case 'begin':
        child.calls.set(message.id, { call: message.call, what: message.what, reader: message.reader, at: Date.now() });
        return;
      case 'end':
        child.calls.delete(message.id);
        return;
      case 'log':
        this.log(message.level, message.msg);
        return;
      case 'attached':
        child.attached.add(message.reader);
        this.tell('attached', message.reader);
        return;
      case 'detached':
        child.attached.delete(message.reader);
        this.tell('detached', message.reader);
        return;
      case 'removed':
        this.tell('removed', { reader: message.reader, uid: message.uid });
        return;
      case 'ndef': {
        const done = child.ndef.get(message.id);
        child.ndef.delete(message.id);
        done?.(message.texts);
        return;
      }
      case 'tag': {
        let texts: Promise<readonly string[]> | null = null;
        const tag: TagInfo = {
          reader: message.reader,
          uid: message.uid,
          atr: message.atr,
          kind: message.kind,
          ndefTexts: () => (texts ??= this.askNdef(child, message.ref)),
        };
        this.tell('tag', tag);
      }
    }
  }

  /** The tag's NDEF texts from the child; [] when it dies first, as for a tag that left the reader. */
  private askNdef(child: Child, ref: number): Promise<readonly string[]> {
    if (this.child !== child) return Promise.resolve([]);
    const id = ++this.nextNdef;
    return new Promise((resolve) => {
      // The page reads are watched one by one; this only covers a reply lost with a dying child.
      const timer = setTimeout(() => finish([]), this.deadlineMs * 4).unref();
      const finish = (texts: readonly string[]) => {
        clearTimeout(timer);
        child.ndef.delete(id);
        resolve(texts);
      };
      child.ndef.set(id, finish);
      this.send(child, { type: 'ndef', id, ref });
    });
  }

  private check(child: Child): void {
    if (this.child !== child || child.killedBecause) return;
    const now = Date.now();
    if (child.heardAt === null) {
      const limit = this.options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
      if (now - child.startedAt > limit) this.kill(child, `the reader process did not start within ${seconds(limit)} s`);
      return;
    }
    for (const call of child.calls.values()) {
      if (now - call.at > this.deadlineMs) {
        this.kill(child, `${call.call} hung for ${seconds(this.deadlineMs)} s, ${call.what} on ${call.reader}`);
        return;
      }
    }
    if (now - child.heardAt > this.heartbeatTimeoutMs) this.kill(child, `no heartbeat for ${seconds(this.heartbeatTimeoutMs)} s`);
  }

  private kill(child: Child, reason: string): void {
    child.killedBecause = reason;
    this.options.log.warn(`NFC reader stopped answering (${reason}): restarting the reader process; tags tapped meanwhile are missed`);
    child.process.kill('SIGKILL');
  }

  private exited(child: Child, how: string): void {
    clearInterval(child.watchdog);
    for (const done of [...child.ndef.values()]) done([]);
    if (this.child !== child) return;
    this.child = null;
    for (const name of child.attached) {
      if (this.running) this.options.log.warn(`NFC reader detached: ${name} (its reader process ended); waiting for it to come back`);
      this.tell('detached', name);
    }
    if (!this.running) return;
    if (!child.killedBecause) {
      const why = stderrReason(child.stderr);
      this.options.log.warn(`NFC: the reader process ended (${how}${why ? `: ${why}` : ''}); restarting it`);
    }
    if (Date.now() - child.startedAt > STABLE_MS) this.failuresInARow = 0;
    const delays = this.options.restartDelaysMs ?? DEFAULT_RESTART_DELAYS_MS;
    const delay = delays[Math.min(this.failuresInARow, delays.length - 1)] ?? 0;
    this.failuresInARow++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.running) return;
      this.restartCount++;
      this.options.log.info(`NFC: starting the reader process again (restart ${this.restartCount})`);
      this.spawn();
    }, delay);
    this.restartTimer.unref();
  }

  private log(level: number, msg: string): void {
    const { log } = this.options;
    if (level >= 50) log.error(msg);
    else if (level >= 40) log.warn(msg);
    else if (level >= 30) log.info(msg);
    else log.debug(msg);
  }

  /** Emits without letting a listener's exception into the message handler. */
  private tell<K extends keyof NfcReaderEvents>(event: K, ...args: NfcReaderEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: NfcReaderEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.options.log.error({ err: error }, `NFC: a ${event} listener failed`);
    }
  }
}

/** True when `promise` settles within `ms`; the timer is cleared either way, so it never holds up the process's exit. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The line of a crashed process's stderr that says why: the error line, not Node's version footer. */
function stderrReason(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !/^Node\.js v/.test(line));
  return lines.find((line) => /^\w*Error\b/.test(line)) ?? lines.at(-1);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1);
}
