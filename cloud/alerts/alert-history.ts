import Database from 'better-sqlite3';
import { join } from 'node:path';
import { alertSchema, type Alert } from './alert-model.ts';
import { ALERTS_FILE } from './alert-store.ts';

/**
 * The page's read-only view of the alert store: a station's active alerts and those ended since a time.
 * Its own read-only connection (WAL lets it read while the alert engine writes), opened on first use,
 * because the page may answer before the alert engine has created the file.
 */
export interface AlertHistory {
  /** Active alerts and those that ended at or after `since`, oldest first. */
  recent(stationId: string, since: number): Promise<Alert[]>;
  close(): Promise<void>;
}

export class SqliteAlertHistory implements AlertHistory {
  private db: Database.Database | undefined;
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, ALERTS_FILE);
  }

  private connection(): Database.Database | undefined {
    if (this.db) return this.db;
    try {
      const db = new Database(this.file, { readonly: true, fileMustExist: true });
      db.prepare('SELECT 1 FROM alerts LIMIT 1').get();
      this.db = db;
    } catch {
      return undefined;
    }
    return this.db;
  }

  async recent(stationId: string, since: number): Promise<Alert[]> {
    const db = this.connection();
    if (!db) return [];
    const rows = db
      .prepare('SELECT body FROM alerts WHERE station_id = ? AND (ended_at IS NULL OR ended_at >= ?) ORDER BY started_at')
      .all(stationId, since) as Array<{ body: string }>;
    return rows.map((r) => alertSchema.parse(JSON.parse(r.body)));
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }
}
