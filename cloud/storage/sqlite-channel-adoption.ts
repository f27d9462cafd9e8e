import type Database from 'better-sqlite3';
import { existsSync, renameSync } from 'node:fs';
import DatabaseFile from 'better-sqlite3';

/**
 * Channel tables used to live in their own channels.sqlite. They now live in datastores.sqlite (one
 * transaction for a message and its datastore rows), so an old file is copied in once, in one
 * transaction, and then renamed aside (channels.sqlite.adopted), never deleted.
 */
export function adoptChannelsFile(db: Database.Database, oldFile: string): void {
  if (!existsSync(oldFile)) return;
  // Fold its WAL into the file first, so that the rename below cannot leave committed rows behind.
  const old = new DatabaseFile(oldFile);
  old.pragma('wal_checkpoint(TRUNCATE)');
  old.pragma('journal_mode = DELETE');
  old.close();
  db.prepare('ATTACH DATABASE ? AS old_channels').run(oldFile);
  try {
    const objects = db
      .prepare("SELECT type, name, sql FROM old_channels.sqlite_master WHERE name LIKE '\\_\\_ch\\_%' ESCAPE '\\' AND sql IS NOT NULL ORDER BY type DESC")
      .all() as { type: 'table' | 'index'; name: string; sql: string }[];
    db.transaction(() => {
      for (const object of objects.filter((o) => o.type === 'table')) {
        db.exec(object.sql.replace(/^CREATE TABLE/i, 'CREATE TABLE IF NOT EXISTS'));
        const quoted = `"${object.name.replaceAll('"', '""')}"`;
        db.exec(`INSERT OR IGNORE INTO main.${quoted} SELECT * FROM old_channels.${quoted}`);
      }
      for (const object of objects.filter((o) => o.type === 'index')) db.exec(object.sql.replace(/^CREATE (UNIQUE )?INDEX/i, 'CREATE $1INDEX IF NOT EXISTS'));
    }).immediate();
  } finally {
    db.exec('DETACH DATABASE old_channels');
  }
  renameSync(oldFile, `${oldFile}.adopted`);
}
