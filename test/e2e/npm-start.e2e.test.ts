import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `npm start` end to end in Debian's Chromium (start-driver.ts does the driving). The driver runs in a
 * private network namespace, so `hedgerow start` keeps its own default ports (8780, 1883) without
 * meeting another test, and in its own process group, which is killed whole when the hard limit passes:
 * a hung browser or addon fails the test instead of stalling CI.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HARD_LIMIT_MS = 9 * 60_000;

function runDriver(): Promise<{ code: number | null; signal: string | null; output: string }> {
  // A mount namespace too, with pcscd's socket folder hidden: other tests' virtual readers on this machine's
  // pcscd must not become the demo museum box's reader (it falls back to its virtual one).
  const script = 'ip link set lo up && if [ -d /run/pcscd ]; then mount -t tmpfs none /run/pcscd; fi && exec "$@"';
  const child = spawn('unshare', ['-n', '-m', 'sh', '-c', script, 'e2e', process.execPath, join(REPO, 'bin/run-ts.js'), join(REPO, 'test/e2e/start-driver.ts')], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((ok) => {
    const timer = setTimeout(() => {
      output += `\n(hard limit of ${HARD_LIMIT_MS / 60_000} min passed: the driver's process group was killed)\n`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, HARD_LIMIT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group ended with its leader
      }
      ok({ code, signal, output });
    });
  });
}

describe('npm start, end to end in Chromium', () => {
  it('lists three stations, draws every chart in every range, downloads CSV and JSON, and delivers a frost alert once to the page, MQTT, ntfy and a webhook', async () => {
    for (const tool of ['/usr/bin/chromium', '/usr/bin/unshare', '/usr/sbin/ip']) {
      if (!existsSync(tool)) throw new Error(`${tool} is missing: run test/setup.sh (it installs chromium, util-linux and iproute2)`);
    }
    const result = await runDriver();
    expect(result.output, result.output).toMatch(/^e2e: passed$/m);
    expect(result.code, result.output).toBe(0);
  }, HARD_LIMIT_MS + 60_000);
});
