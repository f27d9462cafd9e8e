import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, copyFileSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openOutbox } from '../../gateway/outbox-quarantine.ts';
import { Outbox } from '../../gateway/outbox.ts';
import { recordingLog, silent, tempDir, weatherBatch } from './helpers/gateway-harness.ts';

const temps: { remove: () => void }[] = [];
afterEach(() => temps.splice(0).forEach((temp) => temp.remove()));

function filledOutbox(): { dir: string; path: string } {
  const temp = tempDir();
  temps.push(temp);
  const path = join(temp.dir, 'outbox.db');
  const outbox = Outbox.open({ path, log: silent });
  for (let i = 0; i < 2_000; i += 100) outbox.append(weatherBatch('station-1', i, 100));
  outbox.close();
  return { dir: temp.dir, path };
}

function overwrite(path: string, offset: number, length: number): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(length, 0xa5), 0, length, offset);
  closeSync(fd);
}

describe('outbox quarantine', () => {
  it.each([
    ['a damaged header (not a database)', 0, 100],
    ['damaged pages (integrity_check fails)', 4096 * 4, 4096 * 3],
  ])('moves a file with %s aside, keeps its bytes, logs where it went and starts fresh', (_name, offset, length) => {
    const { dir, path } = filledOutbox();
    overwrite(path, offset, length);
    const damaged = readFileSync(path);
    const { log, lines } = recordingLog();
    const outbox = openOutbox({ path, log }, () => new Date('2026-03-01T12:00:00Z'));
    const moved = join(dir, 'outbox.db.corrupt-2026-03-01T12-00-00-000Z');
    expect(readdirSync(dir)).toContain('outbox.db.corrupt-2026-03-01T12-00-00-000Z');
    expect(readFileSync(moved).equals(damaged)).toBe(true);
    expect(lines().join('\n')).toContain(`moved it to ${moved}`);
    expect(outbox.stats().depth).toBe(0);
    outbox.append(weatherBatch('station-1', 0, 1));
    expect(outbox.readUnsent({ limit: 1 })[0]!.seq).toBe(1);
    outbox.close();
  });

  it('checks a file left with its WAL read-only, and keeps the db, -wal and -shm exactly as found', () => {
    const { dir, path } = filledOutbox();
    // A power cut with the last commits still in the WAL: the three files copied while a writer holds them.
    const writer = new Database(path);
    writer.pragma('wal_autocheckpoint = 0');
    writer.prepare(`UPDATE state SET value = value + 7 WHERE key = 'dropped_records'`).run();
    const crashed = join(dir, 'crashed.db');
    for (const suffix of ['', '-wal', '-shm']) copyFileSync(path + suffix, crashed + suffix);
    writer.close();
    const pageSize = 4096;
    overwrite(crashed, pageSize * 40, pageSize * 3);
    const found = Object.fromEntries(['', '-wal', '-shm'].map((suffix) => [suffix, readFileSync(crashed + suffix)]));
    expect(found['-wal']!.length).toBeGreaterThan(0);
    const outbox = openOutbox({ path: crashed, log: silent }, () => new Date('2026-03-01T12:00:00Z'));
    outbox.close();
    const moved = join(dir, 'crashed.db.corrupt-2026-03-01T12-00-00-000Z');
    expect(readFileSync(moved).equals(found['']!)).toBe(true);
    expect(existsSync(`${moved}-wal`)).toBe(true);
    expect(readFileSync(`${moved}-wal`).equals(found['-wal']!)).toBe(true);
    expect(existsSync(`${moved}-shm`)).toBe(true);
    expect(readFileSync(`${moved}-shm`).equals(found['-shm']!)).toBe(true);
  });

  it('opens a sound file as it is', () => {
    const { dir, path } = filledOutbox();
    const outbox = openOutbox({ path, log: silent });
    expect(outbox.stats().depth).toBe(2_000);
    outbox.close();
    expect(readdirSync(dir).filter((name) => name.includes('corrupt'))).toEqual([]);
  });

  it('does not quarantine what is not damage (a folder that does not exist)', () => {
    expect(() => openOutbox({ path: '/nonexistent-folder/outbox.db', log: silent })).toThrow(/unable to open|directory does not exist/i);
  });
});
