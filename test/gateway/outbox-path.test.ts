import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/gateway-harness.ts';

const root = new URL('../..', import.meta.url).pathname;
const fixture = 'test/gateway/fixtures/outbox-path-process.ts';
/** Generous: the child only starts tsx and checks a path; the timer is there for a start that spins. */
const KILL_AFTER_MS = 30_000;

const temps: { remove: () => void }[] = [];
afterEach(() => temps.splice(0).forEach((temp) => temp.remove()));

interface Outcome {
  killed: boolean;
  stdout: string;
  stderr: string;
}

/** Starts the outbox on `path` in a child process, killed if it has not finished after KILL_AFTER_MS. */
function startOutbox(path: string, uid?: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/run-ts.js', fixture, path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], ...(uid === undefined ? {} : { uid, gid: uid }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, KILL_AFTER_MS);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ killed, stdout, stderr });
    });
  });
}

function refusal(outcome: Outcome): { name: string; code: string; message: string } {
  expect(outcome.killed, 'the start hung and was killed').toBe(false);
  expect(outcome.stderr).toBe('');
  return JSON.parse(outcome.stdout) as { name: string; code: string; message: string };
}

describe('outbox.path is checked at start', () => {
  it('refuses a path under /proc at once, naming outbox.path and the fix, instead of spinning', { timeout: 60_000 }, async () => {
    const error = refusal(await startOutbox('/proc/hedgerow-outbox/data/outbox.db'));
    expect(error.code).toBe('OUTBOX_PATH');
    expect(error.message).toMatch(/^outbox\.path \/proc\/hedgerow-outbox\/data\/outbox\.db: \/proc is on a kernel filesystem.*: set outbox\.path \(or dataDir\)/);
  });

  it('refuses a path through a file, and a path that is a folder, without a SQLite error', { timeout: 60_000 }, async () => {
    const temp = tempDir();
    temps.push(temp);
    writeFileSync(join(temp.dir, 'notes.txt'), 'not a folder');
    const [throughFile, folder] = await Promise.all([startOutbox(join(temp.dir, 'notes.txt', 'outbox.db')), startOutbox(temp.dir)]);
    expect(refusal(throughFile)).toMatchObject({ code: 'OUTBOX_PATH', message: expect.stringMatching(/^outbox\.path .*: .*notes\.txt is a file, not a folder: set outbox\.path/) });
    expect(refusal(folder)).toMatchObject({ code: 'OUTBOX_PATH', message: expect.stringMatching(/^outbox\.path .*: it is a folder or device, not a file: set outbox\.path/) });
  });

  it('refuses a folder the station user cannot write', { timeout: 60_000 }, async () => {
    if (process.getuid?.() !== 0) throw new Error('this test runs the station as user nobody (65534), which needs root');
    const temp = tempDir();
    temps.push(temp);
    chmodSync(temp.dir, 0o755);
    mkdirSync(join(temp.dir, 'data'), { mode: 0o755 });
    const error = refusal(await startOutbox(join(temp.dir, 'data', 'outbox.db'), 65534));
    expect(error).toMatchObject({ code: 'OUTBOX_PATH', message: expect.stringMatching(/^outbox\.path .*: the folder .*data is not writable \(EACCES\): set outbox\.path/) });
  });

  it('creates missing folders and opens the outbox there', { timeout: 60_000 }, async () => {
    const temp = tempDir();
    temps.push(temp);
    const path = join(temp.dir, 'a', 'b', 'outbox.db');
    const outcome = await startOutbox(path);
    expect(outcome).toMatchObject({ killed: false, stdout: 'opened\n' });
    expect(existsSync(path)).toBe(true);
  });
});
