// The runtime's side of Type=notify, outside a machine: what it sends through the real systemd-notify tool,
// when, and that it sends nothing without systemd. systemd.test.ts checks the same against a real PID 1.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordHealth, SystemdNotifier, watchdogIntervalMs } from '../../bin/systemd-service.ts';

function memoryLog() {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line).msg as string) });
  return { log, lines };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

describe('the watchdog interval and the station health', () => {
  it('pings at half of WATCHDOG_USEC, only in the process WATCHDOG_PID names', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '60000000' }, 42)).toBe(30_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '42' }, 42)).toBe(5_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '41' }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 42)).toBeUndefined();
  });

  it('is healthy while a record was stored within two intervals, with one interval of grace at start', () => {
    const health = new RecordHealth(300_000);
    health.started(0);
    expect(health.problem(3 * 300_000)).toBeUndefined();
    expect(health.problem(3 * 300_000 + 1)).toMatch(/no record stored since the start 900 s ago/);
    health.stored(1_000_000);
    expect(health.problem(1_000_000 + 600_000)).toBeUndefined();
    expect(health.problem(1_000_000 + 600_001)).toMatch(/no record stored for 600 s \(a record every 300 s\)/);
  });
});

describe('systemd-notify from the runtime', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A notify socket (notify-socket.py) that collects what is sent to it. */
  async function notifySocket(): Promise<{ path: string; messages: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-notify-'));
    dirs.push(dir);
    const path = join(dir, 'notify');
    const receiver = spawn('python3', [join(import.meta.dirname, 'helpers/notify-socket.py'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(receiver);
    const messages: string[] = [];
    let listening = false;
    let buffer = '';
    receiver.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = JSON.parse(buffer.slice(0, end)) as { listening?: string; message?: string };
        buffer = buffer.slice(end + 1);
        if (line.listening) listening = true;
        if (line.message !== undefined) messages.push(line.message);
      }
    });
    await until(() => listening, 'the notify socket');
    return { path, messages };
  }

  it('does nothing outside systemd (no NOTIFY_SOCKET), and says once, with the fix, when the tool is missing', async () => {
    const outside = memoryLog();
    await new SystemdNotifier(outside.log, { PATH: '/nonexistent' }).send(['--ready']);
    expect(outside.lines).toEqual([]);
    const { path } = await notifySocket();
    const missing = memoryLog();
    const notifier = new SystemdNotifier(missing.log, { PATH: '/nonexistent', NOTIFY_SOCKET: path });
    await notifier.send(['--ready']);
    await notifier.send(['WATCHDOG=1']);
    expect(missing.lines).toHaveLength(1);
    expect(missing.lines[0]).toMatch(/systemd-notify --ready failed: .*Fix: install systemd/);
  });

  it('sends READY, then WATCHDOG=1 only while records are stored, the problem as STATUS, and STOPPING on SIGTERM', { timeout: 60_000 }, async () => {
    const socket = await notifySocket();
    const service = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers/notify-service.ts')], {
      env: { ...process.env, NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '400000', HEDGEROW_TEST_STORE_MS: '1500' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(service);
    const problem = (message: string) => /STATUS=no record stored/.test(message);
    await until(() => socket.messages.some(problem), 'a STATUS saying no record is stored');
    // Time for pings that must not come.
    await new Promise((done) => setTimeout(done, 1000));
    service.kill('SIGTERM');
    const [code] = await once(service, 'exit');
    expect(code).toBe(0);
    await until(() => socket.messages.some((m) => m.includes('STOPPING=1')), 'STOPPING=1');
    // Each message is followed by the tool's BARRIER=1: it waited until the socket's owner had read it.
    expect(socket.messages[1]).toBe('BARRIER=1');
    const messages = socket.messages.filter((m) => m !== 'BARRIER=1');
    expect(messages[0]).toMatch(/READY=1/);
    expect(messages[0]).toMatch(/STATUS=sampling/);
    const lastProblem = messages.findLastIndex(problem);
    const stopping = messages.findIndex((m) => m.includes('STOPPING=1'));
    expect(messages.slice(1, lastProblem).some((m) => m.includes('WATCHDOG=1'))).toBe(true);
    expect(messages.slice(lastProblem, stopping).some((m) => m.includes('WATCHDOG=1'))).toBe(false);
    expect(stopping).toBe(messages.length - 1);
  });
});
