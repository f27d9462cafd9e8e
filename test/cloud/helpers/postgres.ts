// Starts Debian's PostgreSQL (15 on bookworm) on a free loopback port with a throwaway cluster, for tests.
// As root (CI) the server runs as the `postgres` user the Debian package creates: postgres refuses root.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../gateway/helpers/mosquitto.ts';

/** The server binaries: Debian puts them under /usr/lib/postgresql/<major>/bin, not on the PATH. */
function binDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(base, majors[0], 'bin') : undefined;
}

/** True when this machine has the server (test/setup.sh installs Debian's postgresql). */
export function hasPostgres(): boolean {
  return binDir() !== undefined;
}

const asRoot = userInfo().uid === 0;

/** Runs a server binary as the user that owns the cluster. */
function asOwner(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', bin, ...args]] : [bin, args];
}

export class Postgres {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private stderr = '';
  private databases = 0;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly bin: string,
  ) {}

  static async start(): Promise<Postgres> {
    const bin = binDir();
    if (!bin) throw new Error('PostgreSQL is not installed: run test/setup.sh (it installs Debian\'s postgresql)');
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-postgres-'));
    chmodSync(dir, 0o755);
    if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    const [cmd, args] = asOwner(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const init = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
    if (init.status !== 0) throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr}`);
    const server = new Postgres(await freePort(), dir, bin);
    await server.resume();
    return server;
  }

  /** A URL for the `postgres` database; `createDatabase` gives a fresh one. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Creates an empty database and returns its URL, so each test gets its own. */
  async createDatabase(prefix = 'test'): Promise<string> {
    this.databases += 1;
    const name = `${prefix}_${process.pid}_${this.databases}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  /** Starts (again) on the same port and cluster, and waits until it accepts connections. */
  async resume(): Promise<void> {
    // fsync off: a test's cluster never survives a power cut, and a clean or killed server keeps what it committed.
    const [cmd, args] = asOwner(join(this.bin, 'postgres'), [
      '-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off', '-c', 'max_connections=200', '-c', 'log_min_messages=warning',
    ]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-8000)));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}): ${this.stderr}`);
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 60 s: ${this.stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Fast shutdown (SIGINT): open transactions roll back, committed ones stay. Start it again with resume(). */
  async pause(): Promise<void> {
    await this.signal('SIGINT');
  }

  /** Kills the postmaster outright (SIGKILL), like a crash; its backends then exit, and resume() recovers. */
  async crash(): Promise<void> {
    await this.signal('SIGKILL');
    // Orphaned backends notice the postmaster is gone and exit; the next start waits for the old shared memory.
    await new Promise((r) => setTimeout(r, 500));
  }

  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** What the server wrote to stderr lately (warnings and up). */
  get log(): string {
    return this.stderr;
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
    this.child = undefined;
  }
}
