import type Database from 'better-sqlite3';
import type { OutboxRow, RowHeader, StampedEnvelope } from './envelope.ts';

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
  private readonly stampedStmt: Database.Statement;
  private readonly bodyByRangeStmt: Database.Statement;
  private readonly bodyByEnvelopeStmt: Database.Statement;
  private readonly stampedCountStmt: Database.Statement;
  private readonly headersStmt: Database.Statement;
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
    // SQLite joins each envelope's records itself: one string per envelope instead of one per record.
    this.bodyByRangeStmt = db
      .prepare(`SELECT (SELECT message_id FROM rows WHERE id = @first), group_concat(record, ',' ORDER BY id) FROM rows WHERE id BETWEEN @first AND @last`)
      .raw();
    this.bodyByEnvelopeStmt = db
      .prepare(`SELECT (SELECT message_id FROM rows WHERE id = @first), group_concat(record, ',' ORDER BY id) FROM rows WHERE envelope = @first`)
      .raw();
    this.stampedStmt = db.prepare(
      `SELECT e.envelope AS id, f.message_id AS messageId, f.device_id AS deviceId, f.topic AS topic, f.seq AS seq,
              e.count AS count, e.body AS body, e.recordBytes AS recordBytes
       FROM (SELECT envelope, count(*) AS count, sum(bytes) AS recordBytes, group_concat(record, ',' ORDER BY id) AS body
             FROM rows WHERE envelope IS NOT NULL GROUP BY envelope ORDER BY envelope LIMIT @limit) e
       LEFT JOIN rows f ON f.id = e.envelope ORDER BY e.envelope`,
    );
    this.headersStmt = db
      .prepare(
        `SELECT id, device_id, topic, seq, ts, bytes FROM rows
         WHERE envelope IS NULL AND id > @afterId AND id <= @upToId ORDER BY id LIMIT @limit`,
      )
      .raw();
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

  /** Envelopes stamped and not yet acknowledged, oldest first, with their joined records. */
  stamped(limit: number): (Omit<StampedEnvelope, 'messageId'> & { messageId: string | null })[] {
    return this.stampedStmt.all({ limit }) as (Omit<StampedEnvelope, 'messageId'> & { messageId: string | null })[];
  }

  /** An envelope's first messageId and joined records; by id range when its rows are contiguous. */
  body(first: number, last: number, contiguous: boolean): { messageId: string; body: string } {
    const [messageId, body] = (contiguous ? this.bodyByRangeStmt.get({ first, last }) : this.bodyByEnvelopeStmt.get({ first })) as [string, string];
    return { messageId, body };
  }

  /** Never-stamped rows in (afterId, upToId], without their record text. */
  unsentHeaders(afterId: number, upToId: number, limit: number): RowHeader[] {
    const rows = this.headersStmt.all({ afterId, upToId, limit }) as [number, string, string, number, number, number][];
    return rows.map(([id, deviceId, topic, seq, ts, bytes]) => ({ id, deviceId, topic, seq, ts, bytes }));
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
