import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { openWalDatabase } from '../../gateway/sqlite-wal.ts';
import { tempDir } from './helpers/gateway-harness.ts';

const root = join(import.meta.dirname, '../..');
const temps: { remove: () => void }[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  temps.splice(0).forEach((temp) => temp.remove());
});

function freshFile(): string {
  const temp = tempDir();
  temps.push(temp);
  return join(temp.dir, 'shared.sqlite');
}

/** Starts sqlite-lock-holder.ts; resolves once it holds the write lock, with a promise of its exit. */
async function holdLock(file: string, holdMs: number, mode: 'rollback' | 'wal'): Promise<{ exited: Promise<string> }> {
  const child = spawn(process.execPath, ['bin/run-ts.js', join(import.meta.dirname, 'sqlite-lock-holder.ts'), file, String(holdMs), mode], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<string>((resolve) => child.on('exit', () => resolve(out)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => out.includes('holding') && resolve());
    void exited.then(() => reject(new Error(`the lock holder exited before it held the lock: ${out}`)));
  });
  return { exited };
}

function rowsOf(db: Database.Database): string[] {
  return db.prepare('SELECT x FROM held').pluck().all() as string[];
}

describe('openWalDatabase', () => {
  it('shows the hazard it exists for: SQLite refuses the WAL switch at once, busy timeout or not, while another process writes', async () => {
    const file = freshFile();
    const holder = await holdLock(file, 60_000, 'rollback');
    const db = new Database(file, { timeout: 5_000 });
    expect(() => db.pragma('journal_mode = WAL')).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    db.close();
    children[0]!.kill('SIGKILL');
    await holder.exited;
  }, 60_000);

  it('waits for the other process to commit, then switches the file to WAL and sees its row', async () => {
    const file = freshFile();
    const holder = await holdLock(file, 1_500, 'rollback');
    // Blocks this process (the opener is synchronous) until the holder lets go by itself.
    const db = openWalDatabase(file, 30_000);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(rowsOf(db)).toEqual(['from the holder']);
    db.close();
    expect(await holder.exited).toContain('released');
  }, 60_000);

  it('takes no lock on a file another process has already switched, so it opens while that process writes', async () => {
    const file = freshFile();
    await holdLock(file, 60_000, 'wal');
    const db = openWalDatabase(file, 30_000);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    // The holder's transaction is not committed: this connection reads the table, empty, beside it.
    expect(rowsOf(db)).toEqual([]);
    db.close();
  }, 60_000);

  it('gives up after the busy timeout with a message that says what holds the file and what to do', async () => {
    const file = freshFile();
    await holdLock(file, 60_000, 'rollback');
    expect(() => openWalDatabase(file, 300)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} stayed locked by another process for 300 ms while it was being opened: stop the other program that has it open`));
  }, 60_000);

  it('refuses a database that cannot keep a WAL journal, instead of running on another one', () => {
    // An in-memory database is the one SQLite answers "memory" for; a network share without shared
    // memory answers so too, and there two processes would no longer see each other's writes safely.
    expect(() => openWalDatabase(':memory:')).toThrow(/:memory: cannot use SQLite's WAL journal \(it stays "memory"\): keep the file on a local disk/);
  });
});
