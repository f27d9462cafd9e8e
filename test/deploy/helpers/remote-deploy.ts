// Runs deploy.sh from the host against a booted stand-in Pi's sshd, with a test key, in a child process
// with a kill timer: a hung ssh or install fails its test instead of stalling the run.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './machine.ts';
import type { Machine, Result } from './machine.ts';

/** An ed25519 key pair in a temp folder: the private key's path and the public key's text. */
export function testKey(): { path: string; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-key-'));
  const path = join(dir, 'id_ed25519');
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hedgerow-test', '-f', path], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`);
  return { path, publicKey: spawnSync('cat', [`${path}.pub`], { encoding: 'utf8' }).stdout };
}

/** The ssh options a test needs: its key, and no host key checks (each machine has fresh host keys). */
export function sshOptions(port: number, key: string): string[] {
  return ['--port', String(port), '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];
}

/** Runs `bash <tree>/deploy.sh ARGS` (the checkout by default), killed after timeoutMs. */
export function deployFrom(tree: string, args: string[], timeoutMs: number): Promise<Result> {
  return run('bash', [join(tree, 'deploy.sh'), ...args], timeoutMs);
}

/** A copy of the checkout (without what deploy.sh leaves out) with some files changed: another release. */
export function changedTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-tree-'));
  const skip = new Set(['node_modules', 'dist', 'data', '.git']);
  cpSync('.', dir, { recursive: true, filter: (source) => !source.split('/').some((part) => skip.has(part)) });
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  return dir;
}

/** A writable copy of the host's npm cache, so npm ci runs --offline in the machine (npm writes to its cache). */
export function npmCacheCopy(): string {
  const home = process.env.HOME ?? '/root';
  const dir = mkdtempSync('/var/tmp/hedgerow-npm-cache-');
  cpSync(join(home, '.npm/_cacache'), join(dir, '_cacache'), { recursive: true });
  return dir;
}

/**
 * Waits until the machine's sshd lets `pi` in with the test key, so a failure to reach it fails here with
 * the reason (ssh's INFO lines, sshd's journal, what listens) rather than as four confusing test failures.
 */
export async function waitForSsh(machine: Machine, keyPath: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const args = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '-o', 'LogLevel=INFO', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-i', keyPath, '-p', String(machine.sshPort), 'pi@127.0.0.1', 'true'];
  let last: Result = { status: null, stdout: '', stderr: '' };
  while (Date.now() < deadline) {
    last = await run('ssh', args, 60_000);
    if (last.status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const journal = await machine.exec('journalctl -u ssh --no-pager -n 40; systemctl status ssh --no-pager; ss -ltnp');
  throw new Error(`the machine's sshd on port ${machine.sshPort} did not let pi in within ${timeoutMs} ms: ssh said ${last.stderr.trim() || 'nothing'}\n${journal.stdout}${journal.stderr}\nconsole: ${machine.consoleOutput().slice(-2000)}`);
}
