import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../bin/hedgerow.js');

/**
 * Runs `hedgerow station` and SIGKILLs it `killAfterMs` after its first stored record (start-up time
 * varies a lot on a loaded machine); returns the record timestamps it logged as stored.
 */
function runAndKill(dataDir: string, killAfterMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, '--log-format', 'json', 'station', '--no-uplink', '--hardware', 'virtual', '--interval', '1', '--station-id', 'crash-1', '--data-dir', dataDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const logged: number[] = [];
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        // The sampler logs a record's line only after the outbox append returned.
        const match = /"msg":"crash-1 (\d\d:\d\d:\d\d)Z/.exec(line);
        if (!match) continue;
        logged.push(Date.parse(`1970-01-01T${match[1]}Z`));
        if (logged.length === 1) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // If no record ever comes, the test's own timeout ends it.
    let timer: NodeJS.Timeout | undefined;
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`station exited early (${code}): ${stderr}`));
      else resolve(logged);
    });
  });
}

describe('station process killed with SIGKILL while writing', () => {
  it('keeps every committed record, in order, without gaps in seq, across repeated kills', { timeout: 90_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hedgerow-crash-'));
    let loggedTotal = 0;
    for (let run = 0; run < 4; run++) {
      // Kill somewhere inside a second so the kill lands at varying points of a sample and append.
      const logged = await runAndKill(dataDir, 1200 + Math.floor(Math.random() * 2000));
      loggedTotal += logged.length;
      const db = new Database(join(dataDir, 'outbox.db'), { readonly: true });
      const rows = db.prepare("SELECT seq, ts, record FROM rows WHERE device_id = 'crash-1' ORDER BY id").all() as {
        seq: number;
        ts: number;
        record: string;
      }[];
      db.close();
      // Every record the process reported as stored is there; at most one more (stored, then killed before the log line).
      expect(rows.length).toBeGreaterThanOrEqual(loggedTotal);
      expect(rows.length).toBeLessThanOrEqual(loggedTotal + run + 1);
      rows.forEach((row, i) => expect(row.seq).toBe(i + 1));
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.ts).toBeGreaterThanOrEqual(rows[i - 1]!.ts);
      for (const row of rows) {
        const record = JSON.parse(row.record) as { ts: number; sensors: Record<string, string> };
        expect(record.ts).toBe(row.ts);
        expect(record.sensors.htu21d).toBe('ok');
      }
    }
    expect(loggedTotal).toBeGreaterThanOrEqual(4);
  });
});
