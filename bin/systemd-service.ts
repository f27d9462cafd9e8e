/**
 * A Hedgerow process as a systemd service (Type=notify, WatchdogSec=): READY=1 once its parts have
 * started, WATCHDOG=1 every WatchdogSec/2 while it is healthy, STATUS= lines saying what it does, and
 * STOPPING=1 on shutdown. Outside systemd (no NOTIFY_SOCKET) it does nothing.
 *
 * The messages go through the `systemd-notify` tool, not a hand-written socket protocol. The tool exits
 * right after sending, and PID 1 finds a sender's unit from /proc/<pid>/cgroup, so a message from a
 * process that is gone would be dropped ("Cannot find unit for notify message", systemd issue 2737). Since
 * systemd 246 the tool waits, without --no-block, until PID 1 has processed the message (sd_notify_barrier),
 * so it is still alive when PID 1 looks: the units say NotifyAccess=all, as the tool is our child, not the
 * main process. No --pid=: the main process is this one, and before systemd 254 the barrier ignored --pid.
 */
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import type { Extension } from '../hardware/core/extension.ts';
import { runUntilSignal } from '../hardware/core/controller.ts';

/** What the service says to systemd; `healthy` decides each watchdog ping. */
export interface ServiceHealth {
  /** The STATUS= line once started, e.g. "sampling every 5 min". */
  started: () => string;
  /** undefined while healthy (the ping is sent), else why not (shown as the status, no ping). */
  problem?: (now: number) => string | undefined;
  /** The STATUS= line sent with each ping while healthy. */
  status?: () => string;
}

/** The watchdog ping interval from systemd's WATCHDOG_USEC (half of it, as sd_watchdog_enabled(3) advises), or undefined when off. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited it must not ping.
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/** Sends notify messages through systemd-notify, one at a time and in order; a no-op outside systemd. */
export class SystemdNotifier {
  private queue: Promise<boolean> = Promise.resolve(true);
  private warned = false;

  constructor(
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get active(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  /**
   * systemd-notify with these arguments (e.g. --ready, --status=TEXT, WATCHDOG=1); resolves once it is done:
   * true when the tool succeeded, which (waiting on its barrier) means PID 1 has read the message.
   */
  send(args: readonly string[]): Promise<boolean> {
    if (!this.active) return Promise.resolve(false);
    this.queue = this.queue.then(() => this.run(args));
    return this.queue;
  }

  private run(args: readonly string[]): Promise<boolean> {
    return new Promise((resolve) => {
      // A kill timer: a barrier PID 1 never answers must not pile up processes.
      execFile('systemd-notify', [...args], { env: this.env, timeout: 20_000 }, (error, _stdout, stderr) => {
        if (error && !this.warned) {
          // Once: a missing tool would otherwise log on every ping, and systemd's watchdog says the rest.
          this.warned = true;
          this.log.warn(`systemd-notify ${args.join(' ')} failed: ${stderr.trim() || error.message}. Fix: install systemd (it provides systemd-notify)`);
        }
        resolve(!error);
      });
    });
  }
}

/**
 * Runs the extensions until SIGTERM/SIGINT as runUntilSignal does, telling systemd READY=1 once all have
 * started, pinging its watchdog while `health` finds no problem, and STOPPING=1 when the signal comes.
 */
export async function runAsService(extensions: readonly Extension[], log: Logger, health: ServiceHealth, onStarted?: () => void): Promise<void> {
  const notifier = new SystemdNotifier(log);
  const interval = watchdogIntervalMs(process.env);
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let stopped: Promise<unknown> | undefined;
  let lastStatus = '';
  const ping = () => {
    const problem = health.problem?.(Date.now());
    const status = problem ?? health.status?.() ?? lastStatus;
    const args = status === lastStatus ? [] : [`--status=${status}`];
    if (problem === undefined) args.push('WATCHDOG=1');
    else if (status !== lastStatus) log.warn(`not telling systemd's watchdog all is well: ${problem}`);
    lastStatus = status;
    if (args.length > 0) void notifier.send(args);
  };
  const stop = () => {
    stopping = true;
    clearInterval(timer);
    stopped = notifier.send(['STOPPING=1', '--status=stopping: closing the outbox']).then((told) => told && log.info('systemd has STOPPING=1'));
  };
  try {
    await runUntilSignal(extensions, log, () => {
      lastStatus = health.started();
      void notifier.send(['--ready', `--status=${lastStatus}`]);
      if (interval !== undefined && notifier.active) {
        // Not unref'd: the process lives until the signal anyway, and the timer stops with it.
        timer = setInterval(() => stopping || ping(), interval);
        log.info(`systemd watchdog: a ping every ${interval / 1000} s while healthy`);
      }
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      onStarted?.();
    });
  } finally {
    clearInterval(timer);
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    // Not before systemd has it: once the main process exits, systemd kills what is left in the unit's
    // cgroup, a systemd-notify still on its way included, and STOPPING=1 was sometimes never seen.
    await stopped;
  }
}

/**
 * The station's health for the watchdog: a record stored in the outbox within the last two intervals.
 * The first record comes one interval after start, so until then the clock runs from start + interval.
 */
export class RecordHealth {
  private lastStored: number | undefined;
  private startedAt = Date.now();

  constructor(private readonly intervalMs: number) {}

  started(now: number = Date.now()): void {
    this.startedAt = now;
    this.lastStored = undefined;
  }

  /** A record was taken and the outbox accepted it. */
  stored(now: number = Date.now()): void {
    this.lastStored = now;
  }

  get lastStoredAt(): number | undefined {
    return this.lastStored;
  }

  problem(now: number): string | undefined {
    const since = this.lastStored ?? this.startedAt + this.intervalMs;
    if (now - since <= 2 * this.intervalMs) return undefined;
    return this.lastStored === undefined
      ? `no record stored since the start ${Math.round((now - this.startedAt) / 1000)} s ago`
      : `no record stored for ${Math.round((now - this.lastStored) / 1000)} s (a record every ${this.intervalMs / 1000} s)`;
  }
}
