import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TranslatedQuery } from '../../../cloud/query/query-types.ts';
import { SqliteQueryRunner } from '../../../cloud/storage/sqlite-query-runner.ts';

// The query processes: result caps and queries running side by side (issue 9, defects 5 and 8).
// A "slow" query here never ends on its own (it counts forever), so what the tests see cannot
// depend on how fast the machine is: it ends only when the runner kills its process.

let dir: string;
let file: string;
let runner: SqliteQueryRunner | undefined;

const query = (sql: string): TranslatedQuery => ({ sql, params: [], datastores: ['d'] });
const NEVER_ENDS = query('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c');
const FAST = query('SELECT count(*) AS n FROM d');
/** Long enough that no test here meets it: the slow queries end when stop() kills them. */
const NO_TIMEOUT = 600_000;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hedgerow-runner-'));
  file = join(dir, 'datastores.sqlite');
  const db = new Database(file);
  db.exec("CREATE TABLE d (n INTEGER, s TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) INSERT INTO d SELECT x, printf('%.100c', 'x') FROM c");
  db.close();
});
afterEach(async () => {
  await runner?.stop();
  runner = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Settles to 'done' or the error's message, and records the order queries finished in. */
function track(promise: Promise<unknown>, name: string, finished: string[]): Promise<string> {
  return promise.then(
    () => (finished.push(name), 'done'),
    (error: Error) => (finished.push(name), error.message),
  );
}

describe('result caps', () => {
  it('stops a query past the row cap, removes the partial file and names the setting', async () => {
    runner = new SqliteQueryRunner(file, { concurrency: 1, maxRows: 1500, maxBytes: 1 << 30 });
    await expect(runner.run(query('SELECT n FROM d'), join(dir, 'rows.csv'), NO_TIMEOUT)).rejects.toThrow(
      /more than 1,500 rows, the cap.*raise cloud\.queryResultMaxRows/,
    );
    expect(readdirSync(dir).filter((f) => f.endsWith('.csv') || f.endsWith('.partial'))).toEqual([]);
    const ok = await runner.run(query('SELECT n FROM d WHERE n <= 1500'), join(dir, 'ok.csv'), NO_TIMEOUT);
    expect(ok.rowCount).toBe(1500);
  });

  it('stops a query past the byte cap before the bytes reach the file', async () => {
    runner = new SqliteQueryRunner(file, { concurrency: 1, maxRows: 1_000_000, maxBytes: 64 * 1024 });
    // 2000 rows of about 106 bytes: over 200 KiB of CSV against a 64 KiB cap.
    await expect(runner.run(query('SELECT n, s FROM d'), join(dir, 'bytes.csv'), NO_TIMEOUT)).rejects.toThrow(
      /more than 65,536 bytes, the cap.*raise cloud\.queryResultMaxBytes/,
    );
    expect(existsSync(join(dir, 'bytes.csv'))).toBe(false);
    expect(existsSync(join(dir, 'bytes.csv.partial'))).toBe(false);
    await runner.run(query('SELECT n, s FROM d WHERE n <= 100'), join(dir, 'small.csv'), NO_TIMEOUT);
    expect(readFileSync(join(dir, 'small.csv'), 'utf8').split('\r\n')).toHaveLength(102);
  });
});

describe('queries side by side', () => {
  it('finishes a fast query while a slow one is still running', async () => {
    runner = new SqliteQueryRunner(file, { concurrency: 2, maxRows: 1_000_000, maxBytes: 1 << 30 });
    const finished: string[] = [];
    const slow = track(runner.run(NEVER_ENDS, join(dir, 'slow.csv'), NO_TIMEOUT), 'slow', finished);
    expect(await track(runner.run(FAST, join(dir, 'fast.csv'), NO_TIMEOUT), 'fast', finished)).toBe('done');
    expect(finished).toEqual(['fast']);
    expect(runner.load).toEqual({ running: 1, queued: 0 });
    expect(readFileSync(join(dir, 'fast.csv'), 'utf8')).toBe('n\r\n2000\r\n');
    await runner.stop();
    expect(await slow).toMatch(/the query process ended/);
    expect(finished).toEqual(['fast', 'slow']);
  });

  it('holds a third query back while two run, and runs it when one of them ends', async () => {
    runner = new SqliteQueryRunner(file, { concurrency: 2, maxRows: 1_000_000, maxBytes: 1 << 30 });
    const finished: string[] = [];
    // 300 ms is only what ends `a`; the checks are about order, which no load on the machine can change.
    const a = track(runner.run(NEVER_ENDS, join(dir, 'a.csv'), 300), 'a', finished);
    const b = track(runner.run(NEVER_ENDS, join(dir, 'b.csv'), NO_TIMEOUT), 'b', finished);
    const c = track(runner.run(FAST, join(dir, 'c.csv'), NO_TIMEOUT), 'c', finished);
    const d = track(runner.run(FAST, join(dir, 'd.csv'), NO_TIMEOUT), 'd', finished);
    expect(runner.load).toEqual({ running: 2, queued: 2 });
    expect(await c).toBe('done');
    expect(await d).toBe('done');
    expect(await a).toMatch(/longer than 300 ms/);
    expect(finished).toEqual(['a', 'c', 'd']);
    expect(runner.load).toEqual({ running: 1, queued: 0 });
    await runner.stop();
    expect(await b).toMatch(/the query process ended/);
  });

  it('fails the queries still waiting when it stops', async () => {
    runner = new SqliteQueryRunner(file, { concurrency: 1, maxRows: 1_000_000, maxBytes: 1 << 30 });
    const finished: string[] = [];
    const running = track(runner.run(NEVER_ENDS, join(dir, 'a.csv'), NO_TIMEOUT), 'a', finished);
    const waiting = track(runner.run(FAST, join(dir, 'b.csv'), NO_TIMEOUT), 'b', finished);
    expect(runner.load).toEqual({ running: 1, queued: 1 });
    await runner.stop();
    expect(await waiting).toMatch(/stopped before the query could start/);
    expect(await running).toMatch(/the query process ended|stopped before the query could start/);
    expect(existsSync(join(dir, 'b.csv'))).toBe(false);
  });
});
