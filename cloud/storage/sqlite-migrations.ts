import type Database from 'better-sqlite3';

/**
 * Versioned schema for each SQLite file of the backend, the twin of postgres-migrations.ts. Each file
 * records its applied versions in __migrations (two underscores: no datastore view can take the name,
 * AWS refuses datastore names that start so). Pending ones are applied in ONE `BEGIN
 * IMMEDIATE` transaction: the write lock is taken before the versions are read, so of two processes
 * opening the same folder at once the second waits (busy timeout), then finds them recorded and
 * applies nothing. A file made before versioning has no __migrations table; its version 1 is
 * written with IF NOT EXISTS, so it is recognised as version 1 without a change to its tables.
 *
 * Adding a version is one entry at the end of a file's list.
 */

export interface SqliteMigration {
  version: number;
  name: string;
  /** Runs inside the transaction; what it returns runs after the commit (e.g. renaming adopted files aside). */
  apply(db: Database.Database): void | (() => void);
}

/** The versions it applied (empty when the file was current). Refuses a file made by a newer Hedgerow. */
export function migrateSqlite(db: Database.Database, file: string, migrations: readonly SqliteMigration[]): number[] {
  const applied: number[] = [];
  const after: (() => void)[] = [];
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS __migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const done = new Set((db.prepare('SELECT version FROM __migrations').all() as { version: number }[]).map((r) => r.version));
    const newest = Math.max(0, ...migrations.map((m) => m.version));
    const unknown = [...done].filter((v) => v > newest);
    if (unknown.length > 0) {
      throw new Error(`${file} has schema version ${Math.max(...unknown)}, newer than this Hedgerow knows (${newest}): upgrade Hedgerow (a database is never migrated down)`);
    }
    const record = db.prepare('INSERT INTO __migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      const then = migration.apply(db);
      if (then) after.push(then);
      record.run(migration.version, migration.name, Date.now());
      applied.push(migration.version);
    }
  }).immediate();
  for (const then of after) then();
  return applied;
}
