import Database from 'better-sqlite3';

/** How long a writer waits for another process's lock (better-sqlite3's own default, made explicit). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens a SQLite file in WAL mode when other processes may open it at the same moment: the station
 * and its gateway share the outbox, and several cloud engines share a store folder.
 *
 * `PRAGMA journal_mode = WAL` is the one statement that SQLite may refuse at once with "database is
 * locked" without waiting out the busy timeout: converting a file takes an exclusive lock, and two
 * connections converting a new file together can each hold the shared lock the other waits on. A CI
 * run failed so (two engines opening an empty folder). So the conversion is retried with a growing,
 * jittered pause until the same busy timeout has passed. A file another process has already converted
 * needs no retry: WAL is kept in the file, and the pragma finds it there without taking the write lock.
 */
export function openWalDatabase(file: string, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): Database.Database {
  const db = new Database(file, { timeout: busyTimeoutMs });
  try {
    switchToWal(db, file, busyTimeoutMs);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

function switchToWal(db: Database.Database, file: string, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (let waitMs = 5; ; waitMs = Math.min(waitMs * 2, 250)) {
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') {
        throw new Error(`${file} cannot use SQLite's WAL journal (it stays "${String(mode)}"): keep the file on a local disk, not a network share or a read-only card`);
      }
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      if (Date.now() >= deadline) {
        throw new Error(`${file} stayed locked by another process for ${busyTimeoutMs} ms while it was being opened: stop the other program that has it open, or start again once it has finished`, { cause: error });
      }
      // Synchronous on purpose: stores open in constructors. The jitter keeps two openers out of step.
      Atomics.wait(pause, 0, 0, waitMs * (0.5 + Math.random()));
    }
  }
}
