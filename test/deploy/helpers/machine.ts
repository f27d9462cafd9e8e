// A booted stand-in Pi: the cached Debian root (debian-root.sh) under systemd-nspawn with a real systemd as
// PID 1, for tests of what deploy.sh installs there (units, sd_notify, hardening, SSH).
//
// Each machine boots --ephemeral: its changes vanish when it stops, and the cached root never changes. It
// shares the host's network, so a broker the test starts on 127.0.0.1 is reachable from inside, and each
// machine's sshd gets its own port. The host's Node.js (20+) is bound in read-only, as a Pi would have
// installed it (Debian bookworm's own nodejs is 18). Everything runs in child processes with kill timers,
// so a hung boot or command fails its test instead of stalling the run.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../gateway/helpers/mosquitto.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** Builds the cached root on first use (minutes, once per machine) and returns its path. */
export function debianRoot(): string {
  const built = spawnSync('bash', [join(here, 'debian-root.sh')], { encoding: 'utf8', timeout: 20 * 60_000 });
  if (built.status !== 0) throw new Error(`debian-root.sh failed (${built.status ?? built.signal}): ${built.stderr}`);
  return built.stdout.trim();
}

/** The cached root with more Debian packages installed (debian-root-with.sh), built on first use. */
export function debianRootWith(packages: string[]): string {
  const built = spawnSync('bash', [join(here, 'debian-root-with.sh'), ...packages], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (built.status !== 0) throw new Error(`debian-root-with.sh failed (${built.status ?? built.signal}): ${built.stderr}`);
  return built.stdout.trim();
}

/**
 * The default for a test in a machine suite. Each command in a machine can take a minute on a busy 2-core host,
 * so the global 30 s would fail a test that is only slow (CI once timed out "systemctl stop" this way).
 */
export const MACHINE_TEST_TIMEOUT_MS = 4 * 60_000;

/** True when this machine can boot one: debootstrap and systemd-nspawn installed (test/setup.sh does it). */
export function canBootMachines(): boolean {
  return ['debootstrap', 'systemd-nspawn'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface BootOptions {
  /** The root to boot (never changed: the machine is ephemeral). Default: debianRoot(). */
  root?: string;
  /** Files put into the machine before it boots: machine path -> content (bound read-only). */
  files?: Record<string, string>;
  /** Host folders or files bound read-write into the machine at the same path. */
  bind?: string[];
  /** Host folders or files bound read-only: at the same path, or SRC:DEST. */
  bindReadOnly?: string[];
  /** How long boot may take before the test fails. */
  bootTimeoutMs?: number;
}

// The host's Node.js as the machine's: the binary, npm and its global config, and the headers node-gyp builds
// native modules with (root's .npmrc in the machine sets nodedir=/usr: node-gyp would download them). The
// host's CA bundle too: this network's HTTPS goes through a proxy whose CA only the host's bundle has.
const HOST_NODE = ['/usr/bin/node', '/usr/lib/node_modules/npm', '/usr/include/node', '/usr/etc/npmrc', '/etc/ssl/certs/ca-certificates.crt'];

export class Machine {
  private exited = false;
  private constructor(
    private readonly nspawn: ChildProcess,
    private readonly leader: number,
    private readonly scratch: string,
    /** The port this machine's sshd listens on (on the shared 127.0.0.1). */
    readonly sshPort: number,
    private readonly console: () => string,
  ) {
    nspawn.once('exit', () => (this.exited = true));
  }

  static async boot(options: BootOptions = {}): Promise<Machine> {
    const root = options.root ?? debianRoot();
    const scratch = mkdtempSync(join(tmpdir(), 'hedgerow-machine-'));
    const sshPort = await freePort();
    const files: Record<string, string> = { '/etc/ssh/sshd_config.d/hedgerow-test.conf': `Port ${sshPort}\nListenAddress 127.0.0.1\n`, '/root/.npmrc': 'nodedir=/usr\n', ...options.files };
    const args = ['-D', root, '--ephemeral', '--boot', '--register=no', '--keep-unit', '--console=pipe', '--quiet'];
    Object.entries(files).forEach(([path, content], index) => {
      const hostPath = join(scratch, `file-${index}`);
      writeFileSync(hostPath, content);
      args.push(`--bind-ro=${hostPath}:${path}`);
    });
    for (const path of [...HOST_NODE, ...(options.bindReadOnly ?? [])]) args.push(`--bind-ro=${path}`);
    for (const path of options.bind ?? []) args.push(`--bind=${path}`);
    let output = '';
    const nspawn = spawn('systemd-nspawn', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    nspawn.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    nspawn.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + (options.bootTimeoutMs ?? 180_000);
    let leader = 0;
    while (!leader) {
      if (nspawn.exitCode !== null || Date.now() > deadline) {
        killGroup(nspawn);
        throw new Error(`the machine did not start (nspawn ${nspawn.exitCode ?? 'still running'}): ${output.slice(-2000)}`);
      }
      leader = leaderOf(nspawn.pid!);
      if (!leader) await sleep(200);
    }
    const machine = new Machine(nspawn, leader, scratch, sshPort, () => output);
    // `is-system-running --wait` returns once boot is done: "running", or "degraded" if a unit failed
    // (a container has units that fail for want of hardware; the tests check their own units).
    for (;;) {
      const state = await machine.exec('systemctl is-system-running --wait', { timeoutMs: Math.max(1000, deadline - Date.now()) });
      if (/^(running|degraded)/.test(state.stdout)) break;
      if (Date.now() > deadline) {
        await machine.stop();
        throw new Error(`the machine did not finish booting: ${state.stdout}${state.stderr} ${output.slice(-2000)}`);
      }
      await sleep(500);
    }
    // npm and npx are symlinks into npm's folder, as Node's packages lay them out.
    await machine.exec('ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/bin/npm && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/bin/npx');
    return machine;
  }

  /** Runs a shell command inside the machine as root, killed after timeoutMs. */
  exec(command: string, options: { timeoutMs?: number; input?: string } = {}): Promise<Result> {
    const args = ['-t', String(this.leader), '-m', '-u', '-i', '-n', '-p', '-C', '--', '/usr/bin/env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8', '/bin/sh', '-c', command];
    return run('nsenter', args, options.timeoutMs ?? 60_000, options.input);
  }

  /** What the machine's console (its systemd) printed so far, for a failing test's message. */
  consoleOutput(): string {
    return this.console();
  }

  /** A file's content inside the machine. */
  async read(path: string): Promise<string> {
    const result = await this.exec(`cat ${shellQuote(path)}`);
    if (result.status !== 0) throw new Error(`cannot read ${path} in the machine: ${result.stderr}`);
    return result.stdout;
  }

  /** Powers the machine off (systemd stops its units), or kills it after timeoutMs. */
  async stop(timeoutMs = 60_000): Promise<void> {
    if (!this.exited) {
      await this.exec('systemctl poweroff --no-block', { timeoutMs: 10_000 }).catch(() => undefined);
      const deadline = Date.now() + timeoutMs;
      while (!this.exited && Date.now() < deadline) await sleep(200);
      if (!this.exited) killGroup(this.nspawn);
      while (!this.exited) await sleep(100);
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** The host pid of the machine's PID 1 (systemd): the process under nspawn whose command is systemd. */
function leaderOf(nspawnPid: number): number {
  const children = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(nspawnPid)], { encoding: 'utf8' }).stdout;
  for (const line of children.split('\n')) {
    const [pid, comm] = line.trim().split(/\s+/);
    if (comm === 'systemd' && pid) return Number(pid);
  }
  return 0;
}

/** Runs a command in a child process, killed after timeoutMs. */
export function run(command: string, args: string[], timeoutMs: number, input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    // A command that closes its stdin early (systemd-run --pipe, a dead machine's nsenter) must not crash the run.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The outbox depth in what `hedgerow status` printed (gateway/status.ts), 0 when it names none. */
export function queuedRecords(statusOutput: string): number {
  return Number(/: (\d+) records queued/.exec(statusOutput)?.[1] ?? 0);
}

export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

