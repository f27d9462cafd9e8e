import Database from 'better-sqlite3';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Outbox } from './outbox.ts';
import type { OutboxOptions } from './outbox.ts';

/** SQLite result codes that mean the file's content is damaged, not merely unreachable. */
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE']);
/** The files SQLite keeps beside the database in WAL mode; they move with it. */
const SIDE_FILES = ['-wal', '-shm'];

export interface OpenOutboxOptions extends OutboxOptions {
  /** full: PRAGMA integrity_check; quick: quick_check; off: trust the file. Default full. */
  integrityCheck?: 'full' | 'quick' | 'off';
}

/** Where a damaged outbox went, so the operator can recover its rows. */
export interface Quarantined {
  from: string;
  to: string;
  reason: string;
}

/**
 * Opens the outbox, and if its file is damaged (fails the integrity check, or SQLite cannot read it
 * as a database) moves it aside with its WAL and starts a fresh one. Queued data is never deleted:
 * the moved file can be opened with sqlite3 to salvage rows. Errors that are not damage (permissions,
 * a missing folder, a newer schema) are thrown as they are.
 */
export function openOutbox(options: OpenOutboxOptions, now: () => Date = () => new Date()): Outbox {
  // Any reader, even a read-only one, rewrites the -shm (SQLite's index of the WAL): its bytes as
  // found are put back before a damaged file is moved. It is small (32 kB per 4,000 WAL frames).
  const shm = `${options.path}-shm`;
  const shmAsFound = existsSync(shm) ? readFileSync(shm) : null;
  const damage = findDamage(options);
  if (damage !== null) {
    if (shmAsFound) writeFileSync(shm, shmAsFound);
    const quarantined = quarantine(options.path, damage, now());
    options.log.error(
      { quarantine: quarantined },
      `outbox ${quarantined.from} is damaged (${damage}): moved it to ${quarantined.to} and started a fresh outbox. ` +
        `Nothing was deleted; open the moved file with sqlite3 (".recover") to salvage its rows.`,
    );
  }
  return Outbox.open(options);
}

/**
 * Returns why the file is unusable, or null when it is fine (or does not exist yet). The check opens
 * it read-only: a read-write handle would checkpoint the WAL into the damaged file on close, so the
 * file kept aside would not be the file as found and its -wal would be gone.
 */
export function findDamage(options: OpenOutboxOptions): string | null {
  if (!existsSync(options.path)) return null;
  const check = options.integrityCheck ?? 'full';
  let db: Database.Database | undefined;
  try {
    db = new Database(options.path, { readonly: true, fileMustExist: true });
    // Reads the header and the schema page: a file that is not a database fails here.
    db.prepare('SELECT count(*) FROM sqlite_master').pluck().get();
    if (check === 'off') return null;
    const problems = integrityProblems(db, check);
    return problems.length === 0 ? null : `${check === 'full' ? 'integrity_check' : 'quick_check'}: ${problems.slice(0, 3).join('; ')}`;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && CORRUPT_CODES.has(code)) return `${code}: ${(error as Error).message}`;
    throw error;
  } finally {
    db?.close();
  }
}

function integrityProblems(db: Database.Database, check: 'full' | 'quick'): string[] {
  const rows = db.pragma(check === 'full' ? 'integrity_check' : 'quick_check', { simple: false }) as Record<string, string>[];
  const results = rows.map((row) => Object.values(row)[0] ?? '');
  return results.length === 1 && results[0] === 'ok' ? [] : results;
}

function quarantine(path: string, reason: string, at: Date): Quarantined {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  let to = `${path}.corrupt-${stamp}`;
  for (let n = 1; existsSync(to); n += 1) to = `${path}.corrupt-${stamp}-${n}`;
  renameSync(path, to);
  for (const suffix of SIDE_FILES) {
    if (existsSync(path + suffix)) renameSync(path + suffix, to + suffix);
  }
  return { from: path, to, reason };
}
