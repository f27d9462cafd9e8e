import type Database from 'better-sqlite3';
import type { OutboxRow } from './envelope.ts';

const ROW_COLUMNS = `id, message_id AS messageId, device_id AS deviceId, seq, topic, ts, record, bytes, envelope`;

export interface TotalsRow {
  depth: number;
  bytes: number;
  dropped_records: number;
  sent_records: number;
  sent_envelopes: number;
  retried_envelopes: number;
}

export interface UnsentQuery {
  limit: number;
  topic?: string | undefined;
  deviceId?: string | undefined;
  newest?: boolean | undefined;
  afterId?: number | undefined;
  upToId?: number | undefined;
}

/** The outbox's prepared statements, compiled once per handle. */
export class OutboxStatements {
  readonly insert: Database.Statement;
  readonly reserveSeq: Database.Statement;
  readonly addTotals: Database.Statement;
  readonly reserveRows: Database.Statement;
  readonly addDropped: Database.Statement;
  readonly addRetries: Database.Statement;
  readonly deleteRow: Database.Statement;
  readonly deleteEnvelope: Database.Statement;
  readonly stamp: Database.Statement;
  readonly stampRange: Database.Statement;
  readonly envelopeSize: Database.Statement;
  readonly oldestUnstamped: Database.Statement;
  private readonly totalsStmt: Database.Statement;
  private readonly bytesStmt: Database.Statement;
  private readonly oldestTsStmt: Database.Statement;
  private readonly lastIdStmt: Database.Statement;
  private readonly stampedIdsStmt: Database.Statement;
  private readonly envelopeRowsStmt: Database.Statement;
  private readonly stampedCountStmt: Database.Statement;
  private readonly unsent = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO rows (id, message_id, device_id, seq, topic, ts, record, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.reserveSeq = db.prepare(
      `INSERT INTO state (key, value) VALUES ('seq:' || @deviceId, @count)
       ON CONFLICT(key) DO UPDATE SET value = value + @count RETURNING value`,
    ).pluck();
    // One statement on the state page: reserve row ids and count the append.
    this.reserveRows = db
      .prepare(
        `UPDATE state SET value = value + CASE key WHEN 'bytes' THEN @bytes ELSE @rows END
         WHERE key IN ('depth', 'bytes', 'last_row_id') RETURNING key, value`,
      )
      .raw();
    this.addTotals = db.prepare(
      `UPDATE state SET value = value + CASE key WHEN 'depth' THEN @depth WHEN 'bytes' THEN @bytes
         WHEN 'sent_records' THEN @sentRecords ELSE @sentEnvelopes END
       WHERE key IN ('depth', 'bytes', 'sent_records', 'sent_envelopes')`,
    );
    this.addDropped = db.prepare(`UPDATE state SET value = value + ? WHERE key = 'dropped_records'`);
    this.addRetries = db.prepare(`UPDATE state SET value = value + ? WHERE key = 'retried_envelopes'`);
    this.deleteRow = db.prepare(`DELETE FROM rows WHERE id = ? RETURNING bytes`);
    this.deleteEnvelope = db.prepare(`DELETE FROM rows WHERE envelope = ?`);
    this.envelopeSize = db.prepare(`SELECT count(*) AS depth, coalesce(sum(bytes), 0) AS bytes FROM rows WHERE envelope = ?`);
    this.stamp = db.prepare(`UPDATE rows SET envelope = ? WHERE id = ? AND envelope IS NULL`);
    // An envelope's rows are usually one contiguous id range (one device appending): one statement.
    this.stampRange = db.prepare(`UPDATE rows SET envelope = ? WHERE id BETWEEN ? AND ? AND envelope IS NULL`);
    this.oldestUnstamped = db.prepare(`SELECT id, ts, bytes FROM rows WHERE envelope IS NULL ORDER BY id LIMIT ?`);
    this.totalsStmt = db.prepare(`SELECT key, value FROM state WHERE key NOT LIKE 'seq:%' AND key != 'last_row_id'`).raw();
    this.bytesStmt = db.prepare(`SELECT value FROM state WHERE key = 'bytes'`).pluck();
    this.oldestTsStmt = db.prepare(`SELECT ts FROM rows ORDER BY id LIMIT 1`).pluck();
    this.lastIdStmt = db.prepare(`SELECT value FROM state WHERE key = 'last_row_id'`).pluck();
    this.stampedIdsStmt = db.prepare(`SELECT DISTINCT envelope FROM rows WHERE envelope IS NOT NULL ORDER BY envelope LIMIT ?`).pluck();
    this.envelopeRowsStmt = db.prepare(`SELECT ${ROW_COLUMNS} FROM rows WHERE envelope = ? ORDER BY id`);
    this.stampedCountStmt = db.prepare(`SELECT count(*) FROM rows WHERE envelope IS NOT NULL`).pluck();
  }

  totals(): TotalsRow {
    return Object.fromEntries(this.totalsStmt.all() as [string, number][]) as unknown as TotalsRow;
  }

  /** Queued record bytes, read on every append under a cap. */
  queuedBytes(): number {
    return this.bytesStmt.get() as number;
  }

  oldestTs(): number | null {
    return (this.oldestTsStmt.get() as number | undefined) ?? null;
  }

  lastId(): number {
    return this.lastIdStmt.get() as number;
  }

  stampedIds(limit: number): number[] {
    return this.stampedIdsStmt.all(limit) as number[];
  }

  envelopeRows(envelopeId: number): OutboxRow[] {
    return this.envelopeRowsStmt.all(envelopeId) as OutboxRow[];
  }

  stampedRowCount(): number {
    return this.stampedCountStmt.get() as number;
  }

  /** Unstamped rows in the id range, filtered as asked; one statement is prepared per filter shape. */
  readUnsent(query: UnsentQuery): OutboxRow[] {
    const filters = [
      ['topic', 'topic = @topic'],
      ['deviceId', 'device_id = @deviceId'],
      ['afterId', 'id > @afterId'],
      ['upToId', 'id <= @upToId'],
    ] as const;
    const where = ['envelope IS NULL'];
    const params: Record<string, unknown> = { limit: query.limit };
    for (const [name, clause] of filters) {
      if (query[name] === undefined) continue;
      where.push(clause);
      params[name] = query[name];
    }
    const text = `SELECT ${ROW_COLUMNS} FROM rows WHERE ${where.join(' AND ')} ORDER BY id ${query.newest ? 'DESC' : 'ASC'} LIMIT @limit`;
    let statement = this.unsent.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.unsent.set(text, statement);
    }
    return statement.all(params) as OutboxRow[];
  }
}
