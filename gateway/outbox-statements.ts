import type Database from 'better-sqlite3';
import type { OutboxRow, RowHeader, StampedEnvelope } from './envelope.ts';

/** Envelopes read per step while the acknowledged prefix advances. */
const ADVANCE_PAGE = 256;
/** Rows in a scan's first page; each further page is twice the last. */
const FIRST_SCAN_PAGE = 256;
const ROW_COLUMNS = `id, message_id AS messageId, device_id AS deviceId, seq, topic, ts, record, bytes`;
/**
 * True for a row no envelope covers. Envelopes never overlap, so the nearest one starting at or
 * before the row decides: one index probe per row.
 */
const UNCOVERED = `coalesce((SELECT e.last_id FROM envelopes e WHERE e.id <= rows.id ORDER BY e.id DESC LIMIT 1), 0) < rows.id`;
/** Rows at or below this id are acknowledged: readers start past them instead of probing each. */
const ACKED_THROUGH = `(SELECT value FROM state WHERE key = 'acked_through')`;

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

/** Consecutive rows summed up: whether they share one device and topic, their ids, seqs and bytes. */
export interface RowChunk {
  count: number;
  firstId: number;
  lastId: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  /** One device and one topic throughout (then deviceId and topic are theirs). */
  uniform: boolean;
  deviceId: string;
  topic: string;
}

/** A row header in a scan, flagged when an envelope already covers it. */
export interface ScannedRow extends RowHeader {
  covered: boolean;
}

type StampedRow = Omit<StampedEnvelope, 'messageId'> & { messageId: string | null };

/** The outbox's prepared statements, compiled once per handle. */
export class OutboxStatements {
  readonly insert: Database.Statement;
  readonly reserveSeq: Database.Statement;
  readonly addTotals: Database.Statement;
  readonly reserveRows: Database.Statement;
  readonly addDropped: Database.Statement;
  readonly addRetries: Database.Statement;
  readonly deleteRow: Database.Statement;
  /** Records many envelopes from a JSON array of [firstId, lastId] pairs. */
  readonly insertEnvelopes: Database.Statement;
  /** Marks the envelopes in a JSON array of envelope ids acknowledged. */
  readonly markAcked: Database.Statement;
  /** Counts acknowledged rows kept in the file (their record bytes): +/- ?. */
  readonly addAckedBytes: Database.Statement;
  readonly setAckedThrough: Database.Statement;
  /** Deletes every row and envelope: the truncate optimization frees whole pages without writing them. */
  readonly clearRows: Database.Statement;
  readonly clearEnvelopes: Database.Statement;
  readonly zeroQueueTotals: Database.Statement;
  readonly deleteRowsThrough: Database.Statement;
  readonly deleteEnvelopesThrough: Database.Statement;
  readonly oldestUncovered: Database.Statement;
  private readonly totalsStmt: Database.Statement;
  private readonly bytesStmt: Database.Statement;
  private readonly depthStmt: Database.Statement;
  private readonly oldestTsStmt: Database.Statement;
  private readonly lastIdStmt: Database.Statement;
  private readonly stampedStmt: Database.Statement;
  private readonly envelopeIdsStmt: Database.Statement;
  private readonly bodiesStmt: Database.Statement;
  private readonly recordsStmt: Database.Statement;
  private readonly unackedStmt: Database.Statement;
  private readonly ackedThroughStmt: Database.Statement;
  private readonly ackedBytesStmt: Database.Statement;
  private readonly envelopesAfterIdStmt: Database.Statement;
  private readonly firstRowAfterStmt: Database.Statement;
  private readonly purgeBoundaryStmt: Database.Statement;
  private readonly lastRowInFileStmt: Database.Statement;
  private readonly chunkStmt: Database.Statement;
  private readonly coveredCountStmt: Database.Statement;
  private readonly scanStmt: Database.Statement;
  private readonly plainScanStmt: Database.Statement;
  private readonly envelopesAfterStmt: Database.Statement;
  private readonly unsent = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO rows (id, message_id, device_id, seq, topic, ts, record, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.reserveSeq = db
      .prepare(
        `INSERT INTO state (key, value) VALUES ('seq:' || @deviceId, @count)
         ON CONFLICT(key) DO UPDATE SET value = value + @count RETURNING value`,
      )
      .pluck();
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
    // Acknowledgements and stamping take a whole batch per statement (ids passed as one JSON array):
    // per-envelope statements cost more than the publishes they follow.
    this.insertEnvelopes = db.prepare(
      `INSERT INTO envelopes (id, last_id, count, bytes) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)`,
    );
    this.markAcked = db.prepare(`UPDATE envelopes SET acked = 1 WHERE id IN (SELECT value FROM json_each(?))`);
    this.unackedStmt = db
      .prepare(`SELECT count(*), coalesce(sum(count), 0), coalesce(sum(bytes), 0) FROM envelopes WHERE acked = 0 AND id IN (SELECT value FROM json_each(?))`)
      .raw();
    this.addAckedBytes = db.prepare(`UPDATE state SET value = value + ? WHERE key = 'acked_bytes'`);
    this.ackedBytesStmt = db.prepare(`SELECT value FROM state WHERE key = 'acked_bytes'`).pluck();
    this.ackedThroughStmt = db.prepare(`SELECT ${ACKED_THROUGH}`).pluck();
    this.setAckedThrough = db.prepare(`UPDATE state SET value = ? WHERE key = 'acked_through'`);
    this.envelopesAfterIdStmt = db.prepare(`SELECT id, last_id, acked FROM envelopes WHERE id > ? ORDER BY id LIMIT ?`).raw();
    this.firstRowAfterStmt = db.prepare(`SELECT min(id) FROM rows WHERE id > ?`).pluck();
    this.clearRows = db.prepare(`DELETE FROM rows`);
    this.clearEnvelopes = db.prepare(`DELETE FROM envelopes`);
    this.zeroQueueTotals = db.prepare(`UPDATE state SET value = 0 WHERE key IN ('depth', 'bytes')`);
    // Among the acknowledged envelopes that end by ?1 and start by ?2: the last one's last row, and their record bytes.
    this.purgeBoundaryStmt = db.prepare(`SELECT max(last_id), coalesce(sum(bytes), 0) FROM envelopes WHERE acked = 1 AND last_id <= ? AND id <= ?`).raw();
    this.lastRowInFileStmt = db.prepare(`SELECT max(id) FROM rows`).pluck();
    this.deleteRowsThrough = db.prepare(`DELETE FROM rows WHERE id <= ?`);
    // Called with an envelope's last row: the envelopes starting by it are exactly those ending by it.
    this.deleteEnvelopesThrough = db.prepare(`DELETE FROM envelopes WHERE id <= ?`);
    // The rows of an id range summed up inside SQLite, so a run of one device and topic costs one
    // statement instead of one JavaScript row per record.
    this.chunkStmt = db
      .prepare(
        `SELECT count(*), min(id), max(id), sum(bytes), min(seq), max(seq),
                min(device_id) = max(device_id) AND min(topic) = max(topic), min(device_id), min(topic)
         FROM rows WHERE id > ? AND id <= ?`,
      )
      .raw();
    this.oldestUncovered = db.prepare(`SELECT id, ts, bytes FROM rows WHERE id > ${ACKED_THROUGH} AND ${UNCOVERED} ORDER BY id LIMIT ?`);
    this.totalsStmt = db.prepare(`SELECT key, value FROM state WHERE key NOT LIKE 'seq:%' AND key != 'last_row_id'`).raw();
    this.bytesStmt = db.prepare(`SELECT value FROM state WHERE key = 'bytes'`).pluck();
    this.depthStmt = db.prepare(`SELECT value FROM state WHERE key = 'depth'`).pluck();
    // The row after the acknowledged prefix is never acknowledged itself (the prefix would include it).
    this.oldestTsStmt = db.prepare(`SELECT ts FROM rows WHERE id > ${ACKED_THROUGH} ORDER BY id LIMIT 1`).pluck();
    this.lastIdStmt = db.prepare(`SELECT value FROM state WHERE key = 'last_row_id'`).pluck();
    // SQLite joins each envelope's records itself: one string per envelope instead of one per record.
    // The ordered subquery keeps row order at half the cost of group_concat(... ORDER BY id), which sorts.
    this.bodiesStmt = db
      .prepare(
        `SELECT (SELECT message_id FROM rows WHERE id = j.value ->> 0),
                (SELECT group_concat(record, ',') FROM (SELECT record FROM rows WHERE id BETWEEN j.value ->> 0 AND j.value ->> 1 ORDER BY id))
         FROM json_each(?) j ORDER BY j.key`,
      )
      .raw();
    this.recordsStmt = db.prepare(`SELECT id, message_id, record FROM rows WHERE id BETWEEN ? AND ?`).raw();
    this.stampedStmt = db.prepare(
      `SELECT e.id AS id, f.message_id AS messageId, f.device_id AS deviceId, f.topic AS topic, f.seq AS seq,
              e.count AS count, e.bytes AS recordBytes,
              (SELECT group_concat(record, ',' ORDER BY id) FROM rows r WHERE r.id BETWEEN e.id AND e.last_id) AS body
       FROM envelopes e LEFT JOIN rows f ON f.id = e.id WHERE e.id = @id AND e.acked = 0`,
    );
    this.envelopeIdsStmt = db.prepare(`SELECT id FROM envelopes WHERE id > ${ACKED_THROUGH} AND acked = 0 ORDER BY id LIMIT @limit`).pluck();
    this.coveredCountStmt = db.prepare(`SELECT coalesce(sum(count), 0) FROM envelopes WHERE id > ${ACKED_THROUGH} AND acked = 0`).pluck();
    this.scanStmt = db
      .prepare(
        `SELECT id, device_id, topic, seq, ts, bytes, NOT (${UNCOVERED}) FROM rows
         WHERE id > @afterId AND id <= @upToId ORDER BY id LIMIT @limit`,
      )
      .raw();
    // Most scans start past every envelope in flight; they skip the per-row coverage probe.
    this.plainScanStmt = db
      .prepare(`SELECT id, device_id, topic, seq, ts, bytes, 0 FROM rows WHERE id > @afterId AND id <= @upToId ORDER BY id LIMIT @limit`)
      .raw();
    // An envelope covering a row in the range starts inside it, or is the last to start before it and
    // reaches into it: two index probes, however many acknowledged envelopes the file still keeps.
    this.envelopesAfterStmt = db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM envelopes WHERE id > @afterId AND id <= @upToId)
             OR coalesce((SELECT last_id FROM envelopes WHERE id <= @afterId ORDER BY id DESC LIMIT 1), 0) > @afterId`,
      )
      .pluck();
  }

  totals(): TotalsRow {
    return Object.fromEntries(this.totalsStmt.all() as [string, number][]) as unknown as TotalsRow;
  }

  /** Queued record bytes, read on every append under a cap. */
  queuedBytes(): number {
    return this.bytesStmt.get() as number;
  }

  queuedRows(): number {
    return this.depthStmt.get() as number;
  }

  oldestTs(): number | null {
    return (this.oldestTsStmt.get() as number | undefined) ?? null;
  }

  lastId(): number {
    return this.lastIdStmt.get() as number;
  }

  /** Ids of envelopes formed and not yet acknowledged, oldest first. */
  envelopeIds(limit: number): number[] {
    return this.envelopeIdsStmt.all({ limit }) as number[];
  }

  /** One formed envelope with its joined records, or undefined when it is gone. */
  stamped(id: number): StampedRow | undefined {
    return this.stampedStmt.get({ id }) as StampedRow | undefined;
  }

  /** For [firstId, lastId] ranges (as JSON), each envelope's messageId and joined records, in the same order. */
  bodies(ranges: string): [string, string][] {
    return this.bodiesStmt.all(ranges) as [string, string][];
  }

  /** Single-record envelopes' messageIds and records, in the order of `ids` (ascending), from one range read. */
  singleBodies(ids: readonly number[]): [string, string][] {
    const byId = new Map<number, [string, string]>();
    for (const [id, messageId, record] of this.recordsStmt.all(ids[0], ids.at(-1)) as [number, string, string][]) byId.set(id, [messageId, record]);
    return ids.map((id) => byId.get(id)!);
  }

  /** How many of the envelopes (a JSON array of ids) are still unacknowledged, with their rows and record bytes. */
  unacked(ids: string): { envelopes: number; rows: number; bytes: number } {
    const [envelopes, rows, bytes] = this.unackedStmt.get(ids) as [number, number, number];
    return { envelopes, rows, bytes };
  }

  /** Every row with id <= this is acknowledged (and may be deleted). */
  ackedThrough(): number {
    return this.ackedThroughStmt.get() as number;
  }

  /** Record bytes of acknowledged rows still in the file. */
  ackedBytes(): number {
    return this.ackedBytesStmt.get() as number;
  }

  /**
   * The acknowledged prefix extended over the acknowledged envelopes that follow it: each must start
   * at the next row still in the file (ids have gaps only where the cap dropped rows).
   */
  advanceAckedThrough(from: number): number {
    let through = from;
    for (;;) {
      const next = this.envelopesAfterIdStmt.all(through, ADVANCE_PAGE) as [number, number, number][];
      for (const [id, lastId, acked] of next) {
        if (acked !== 1) return through;
        if (id !== through + 1 && this.firstRowAfter(through) !== id) return through;
        through = lastId;
      }
      if (next.length < ADVANCE_PAGE) return through;
    }
  }

  /**
   * Of the acknowledged envelopes ending by `through` and starting by `startBy`: the last row of the
   * last one, and their record bytes. Deleting up to it deletes exactly those envelopes' rows.
   */
  purgeBoundary(through: number, startBy: number): { lastId: number | null; bytes: number } {
    const [lastId, bytes] = this.purgeBoundaryStmt.get(through, startBy) as [number | null, number];
    return { lastId, bytes };
  }

  /** The lowest row id above `id` still in the file. */
  firstRowAfter(id: number): number | null {
    return (this.firstRowAfterStmt.get(id) as number | null | undefined) ?? null;
  }

  /** The highest row id still in the file (lastId() is the highest ever handed out). */
  lastRowInFile(): number | null {
    return (this.lastRowInFileStmt.get() as number | null | undefined) ?? null;
  }

  /** True when an envelope covers a row in (afterId, upToId]. */
  envelopesIn(afterId: number, upToId: number): boolean {
    return this.envelopesAfterStmt.get({ afterId, upToId }) === 1;
  }

  /** The rows in (afterId, lastId] summed up, or undefined when there are none. */
  chunk(afterId: number, lastId: number): RowChunk | undefined {
    const [count, firstId, last, bytes, firstSeq, lastSeq, uniform, deviceId, topic] = this.chunkStmt.get(afterId, lastId) as [
      number, number, number, number, number, number, number, string, string,
    ];
    if (count === 0) return undefined;
    return { count, firstId, lastId: last, bytes, firstSeq, lastSeq, uniform: uniform === 1, deviceId, topic };
  }

  /**
   * Row headers in (afterId, upToId], without record text, each flagged if an envelope covers it.
   * Stops after the row that takes the uncovered records past `maxBytes`: rows past it could not join any
   * envelope the caller can form, and reading ten thousand headers to send one envelope is garbage
   * the collector then has to catch up with.
   */
  scan(afterId: number, upToId: number, limit: number, maxBytes = Infinity): { rows: ScannedRow[]; cut: boolean } {
    const statement = this.envelopesIn(afterId, upToId) ? this.scanStmt : this.plainScanStmt;
    const rows: ScannedRow[] = [];
    let bytes = 0;
    let after = afterId;
    // Pages that double in size: all() per page is several times cheaper per row than iterate().
    for (let page = FIRST_SCAN_PAGE; rows.length < limit; page *= 2) {
      const want = Math.min(page, limit - rows.length);
      const read = statement.all({ afterId: after, upToId, limit: want }) as [number, string, string, number, number, number, number][];
      for (const [id, deviceId, topic, seq, ts, size, covered] of read) {
        rows.push({ id, deviceId, topic, seq, ts, bytes: size, covered: covered === 1 });
        // Rows already in flight join no new envelope, so only the others count.
        if (covered === 1) continue;
        bytes += size;
        if (bytes > maxBytes) return { rows, cut: true };
      }
      if (read.length < want) return { rows, cut: false };
      after = rows.at(-1)!.id;
    }
    return { rows, cut: true };
  }

  coveredRowCount(): number {
    return this.coveredCountStmt.get() as number;
  }

  /** Rows no envelope covers, filtered as asked; one statement is prepared per filter shape. */
  readUnsent(query: UnsentQuery): OutboxRow[] {
    const filters = [
      ['topic', 'topic = @topic'],
      ['deviceId', 'device_id = @deviceId'],
      ['afterId', 'id > @afterId'],
      ['upToId', 'id <= @upToId'],
    ] as const;
    const where = [`id > ${ACKED_THROUGH}`, UNCOVERED];
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
