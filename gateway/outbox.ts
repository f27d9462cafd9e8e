import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { IOT_CORE, type OutgoingRecord, type RecordSink } from '../hardware/core/contract.ts';
import { acknowledgeEnvelopes, DEFAULT_KEEP_ACKED_BYTES } from './outbox-acks.ts';
import { applyCap } from './outbox-cap.ts';
import type { CapPolicy, DropReport } from './outbox-cap.ts';
import { DEFAULT_HOLD_RECORDS, HeldRecords } from './outbox-hold.ts';
import { applySchema, checkSchema } from './outbox-schema.ts';
import { envelopeOverheadBytes, groupRows, MAX_RECORD_BYTES } from './envelope.ts';
import type { EnvelopePlan, GroupingLimits, OutboxRow, StampedEnvelope } from './envelope.ts';
import { OutboxStatements } from './outbox-statements.ts';
import { DEFAULT_BUSY_TIMEOUT_MS, openWalDatabase } from './sqlite-wal.ts';

/** Most rows read to form envelopes in one go: bounds memory when envelopes are large. */
const MAX_ROWS_PER_STAMP = 10_000;
/**
 * SQLite's page cache per handle. The queue is read and written at its two ends, so a small cache
 * serves it; the 16 MB default filled up while draining a week's backlog and stayed in RSS on the Pi.
 */
const PAGE_CACHE_KIB = 2_048;
/** Envelopes of at least this many records are first sought whole by one aggregate statement each. */
const MIN_CHUNK_RECORDS = 8;
/** Byte-limited chunks tried smaller at most this many times in a row before the row-by-row scan takes over. */
const MAX_CHUNK_MISSES = 3;
/** AWS IoT Core's topic limits (design.md §3). */
const MAX_TOPIC_BYTES = IOT_CORE.maxTopicBytes;
const MAX_TOPIC_LEVELS = IOT_CORE.maxTopicLevels;

export interface OutboxOptions {
  path: string;
  log: Logger;
  /** NORMAL (default) survives a process crash; FULL also survives a power cut, at a cost per commit. */
  synchronous?: 'NORMAL' | 'FULL';
  /** Default 5000. */
  busyTimeoutMs?: number;
  /** Most bytes of record JSON kept; 0 (default) means no cap. */
  capBytes?: number;
  /** What append does at the cap. Default drop-oldest. */
  capPolicy?: CapPolicy;
  /** Under `block`, most records held in memory while full; past it they are counted as dropped. Default 300. */
  holdRecords?: number;
  /** Epoch ms clock for ages. Default Date.now. */
  now?: () => number;
  /** messageId generator. Default crypto.randomUUID. */
  newId?: () => string;
  /** Open an existing file read-only, for `hedgerow status`: no schema changes, no writes. */
  readonly?: boolean;
  /**
   * Record bytes of acknowledged rows kept until the queue empties (then they go at once, cheaply);
   * past it the oldest are deleted one by one. Default 32 MiB. See outbox-acks.ts.
   */
  keepAckedBytes?: number;
}

export interface OutboxStats {
  /** Rows queued, stamped or not. */
  depth: number;
  /** Bytes of record JSON queued. */
  bytes: number;
  /** Age of the oldest queued record (by its ts), null when empty. */
  oldestAgeMs: number | null;
  oldestTs: number | null;
  /** Rows stamped into an envelope that has not been acknowledged yet. */
  stampedRows: number;
  droppedRecords: number;
  sentRecords: number;
  sentEnvelopes: number;
  retriedEnvelopes: number;
  /** Appends the `block` policy could not store whole (the rest held or dropped) since this handle opened. */
  refusedBatches: number;
  capBytes: number;
  capPolicy: CapPolicy;
}

export interface ReadOptions {
  limit: number;
  topic?: string;
  deviceId?: string;
  /** Newest rows first (live data), instead of the oldest (backlog). Rows come back in append order. */
  newest?: boolean;
  /** Only rows with id > afterId. */
  afterId?: number;
  /** Only rows with id <= upToId. */
  upToId?: number;
}

/**
 * Where the caller's previous stamping scan ended: every row up to `scannedTo` (in its id range) is
 * stamped or gone, so the next scan starts after it instead of walking past the rows in flight.
 */
export interface StampCursor {
  scannedTo: number;
}

export interface StampOptions extends GroupingLimits {
  afterId?: number;
  upToId?: number;
  cursor?: StampCursor;
  /**
   * With `readAheadBytes`: envelopes past the first `fill` (the free slots) are formed only while
   * their records add up to at most `readAheadBytes`, so small envelopes are stamped a window at a
   * time while large ones never pile up in memory ahead of the window.
   */
  fill?: number;
  readAheadBytes?: number;
  /**
   * Envelopes the broker has acknowledged since the last commit: deleted in the same transaction,
   * so a drain pays one commit where it would pay two (see `ackEnvelopes`).
   */
  acknowledged?: readonly number[];
}

/** Thrown by append for a record that could never be sent; nothing of the batch is stored. */
export class OutboxRecordError extends Error {
  readonly code = 'OUTBOX_BAD_RECORD';
}

export type { CapPolicy } from './outbox-cap.ts';

interface PreparedRow {
  messageId: string;
  deviceId: string;
  topic: string;
  ts: number;
  record: string;
  bytes: number;
}

/**
 * The durable queue between the device and the uplink, in one SQLite file (WAL). Every append is one
 * transaction; rows leave only when acknowledged by the broker or dropped by the cap policy, and a
 * drop is always counted and logged with its time range.
 */
export class Outbox implements RecordSink {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly sql: OutboxStatements;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly capBytes: number;
  private readonly capPolicy: CapPolicy;
  private readonly keepAckedBytes: number;
  /** Rows the last whole chunk held when bytes bounded it: where the next stamp starts looking. */
  private chunkRows = Infinity;
  private refusedBatches = 0;
  private readonly held: HeldRecords<PreparedRow>;
  private readonly appendListeners = new Set<() => void>();
  private readonly appendTxn: (rows: PreparedRow[]) => { drops: DropReport[]; waiting: PreparedRow[] };
  private readonly ackTxn: (ids: string) => number;
  private readonly stampTxn: (limits: StampOptions) => StampedEnvelope[];

  private constructor(db: Database.Database, options: OutboxOptions) {
    this.db = db;
    this.path = options.path;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? randomUUID;
    this.capBytes = options.capBytes ?? 0;
    this.capPolicy = options.capPolicy ?? 'drop-oldest';
    this.keepAckedBytes = options.keepAckedBytes ?? DEFAULT_KEEP_ACKED_BYTES;
    this.held = new HeldRecords(options.holdRecords ?? DEFAULT_HOLD_RECORDS, this.log, this.path);
    this.sql = new OutboxStatements(db);
    // Built once: better-sqlite3 wraps the function on every transaction() call.
    const append = db.transaction((rows: PreparedRow[]) => this.insert(rows));
    this.appendTxn = (rows) => append.immediate(rows);
    const ack = db.transaction((ids: string) => acknowledgeEnvelopes(this.sql, ids, this.keepAckedBytes));
    this.ackTxn = (ids) => ack.immediate(ids);
    const stamp = db.transaction((limits: StampOptions) => this.stamp(limits));
    this.stampTxn = (limits) => stamp.immediate(limits);
  }

  /** Opens (creating if needed) the outbox file. Throws what SQLite throws for an unusable file. */
  static open(options: OutboxOptions): Outbox {
    const timeout = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (options.readonly) {
      const db = new Database(options.path, { timeout, readonly: true, fileMustExist: true });
      try {
        checkSchema(db, options.path);
        return new Outbox(db, options);
      } catch (error) {
        db.close();
        throw error;
      }
    }
    const db = openWalDatabase(options.path, timeout);
    try {
      db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      applySchema(db, options.path);
      return new Outbox(db, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  append(batch: readonly OutgoingRecord[]): void {
    if (batch.length === 0) return;
    const fresh = batch.map((item) => this.prepare(item));
    // Records held by `block` go first, so the queue keeps their order.
    const rows = this.held.size > 0 ? [...this.held.take(), ...fresh] : fresh;
    const { drops, waiting } = this.appendTxn(rows);
    for (const drop of drops) this.logDrop(drop);
    if (waiting.length > 0) this.refusedBatches += 1;
    const lost = this.held.keep(waiting, this.capBytes, rows.length - waiting.length);
    if (lost > 0) this.sql.addDropped.run(lost);
    for (const listener of this.appendListeners) listener();
  }

  /** Calls `listener` after each committed append by this handle, so an uplink in the same process sends at once. */
  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  readUnsent(options: ReadOptions): OutboxRow[] {
    const rows = this.sql.readUnsent(options);
    return options.newest ? rows.reverse() : rows;
  }

  /** Highest row id ever handed out (ids are never reused): the edge between backlog and live. */
  lastId(): number {
    return this.sql.lastId();
  }

  /** Deletes rows no envelope covers, in one transaction; returns how many existed. */
  ack(rowIds: readonly number[]): number {
    return this.db
      .transaction(() => {
        let depth = 0;
        let bytes = 0;
        const ackedThrough = this.sql.ackedThrough();
        for (const id of rowIds) {
          if (id <= ackedThrough) continue;
          const row = this.sql.deleteRow.get(id) as { bytes: number } | undefined;
          if (!row) continue;
          depth += 1;
          bytes += row.bytes;
        }
        this.sql.addTotals.run({ depth: -depth, bytes: -bytes, sentRecords: depth, sentEnvelopes: 0 });
        return depth;
      })
      .immediate();
  }

  /**
   * Forms envelopes from rows never published, oldest first within the id range, and stamps them in
   * one transaction. Only after this returns may they be published. A cursor, kept by the caller
   * across calls, saves rescanning rows already stamped.
   */
  stampEnvelopes(limits: StampOptions): StampedEnvelope[] {
    return this.stampTxn(limits);
  }

  /** Envelopes stamped earlier (by this run or one that crashed) and not yet acknowledged. */
  stampedEnvelopes(limit: number, exclude: ReadonlySet<number> = new Set()): StampedEnvelope[] {
    const ids = this.pendingEnvelopeIds(limit + exclude.size).filter((id) => !exclude.has(id));
    return this.envelopesById(ids.slice(0, limit));
  }

  /** Ids of envelopes formed and not yet acknowledged, oldest first: cheap, no record text. */
  pendingEnvelopeIds(limit = Number.MAX_SAFE_INTEGER): number[] {
    return this.sql.envelopeIds(limit);
  }

  /** These envelopes with their records, skipping any already acknowledged. */
  envelopesById(ids: readonly number[]): StampedEnvelope[] {
    return ids.flatMap((id) => {
      const envelope = this.sql.stamped(id);
      if (!envelope) return [];
      if (envelope.messageId === null) {
        // The first row carries the envelope's messageId and is deleted only with the rest of the group.
        throw new Error(`outbox envelope ${envelope.id} has lost its first row: open the file with sqlite3 to inspect it`);
      }
      return [{ ...envelope, messageId: envelope.messageId }];
    });
  }

  /** Deletes every row of these envelopes in one transaction and counts them as sent. */
  ackEnvelopes(envelopeIds: readonly number[]): number {
    if (envelopeIds.length === 0) return 0;
    return this.ackTxn(JSON.stringify(envelopeIds));
  }

  /** Counts envelopes published again after a reconnect or a restart. */
  countRetries(envelopes: number): void {
    if (envelopes > 0) this.sql.addRetries.run(envelopes);
  }

  /** Rows queued: `stats().depth` without the rest, cheap enough to poll. */
  depth(): number {
    return this.sql.queuedRows();
  }

  stats(): OutboxStats {
    const totals = this.sql.totals();
    const oldestTs = this.sql.oldestTs();
    return {
      depth: totals.depth,
      bytes: totals.bytes,
      oldestTs,
      oldestAgeMs: oldestTs === null ? null : Math.max(0, this.now() - oldestTs),
      stampedRows: this.sql.coveredRowCount(),
      droppedRecords: totals.dropped_records,
      sentRecords: totals.sent_records,
      sentEnvelopes: totals.sent_envelopes,
      retriedEnvelopes: totals.retried_envelopes,
      refusedBatches: this.refusedBatches,
      capBytes: this.capBytes,
      capPolicy: this.capPolicy,
    };
  }

  close(): void {
    if (!this.db.open) return;
    // Held records die with the process: count them rather than lose them silently.
    const lost = this.held.abandon();
    if (lost > 0) this.sql.addDropped.run(lost);
    // A clean close checkpoints the WAL into the main file, so a copied outbox is self-contained.
    this.db.close();
  }

  private prepare(item: OutgoingRecord): PreparedRow {
    const topicBytes = Buffer.byteLength(item.topic);
    if (topicBytes === 0 || topicBytes > MAX_TOPIC_BYTES || /[#+]/.test(item.topic) || item.topic.includes('\u0000')) {
      throw new OutboxRecordError(`topic "${item.topic}" is not a publishable MQTT topic (1..${MAX_TOPIC_BYTES} bytes, no + # wildcards)`);
    }
    if (item.topic.split('/').length > MAX_TOPIC_LEVELS) {
      throw new OutboxRecordError(`topic "${item.topic}" has more than ${MAX_TOPIC_LEVELS} levels, which AWS IoT Core refuses`);
    }
    if (!Number.isFinite(item.record.ts)) {
      throw new OutboxRecordError(`record for ${item.deviceId} has no numeric ts (epoch ms)`);
    }
    const record = JSON.stringify(item.record);
    const bytes = Buffer.byteLength(record);
    if (bytes > MAX_RECORD_BYTES) {
      throw new OutboxRecordError(`record for ${item.deviceId} is ${bytes} bytes; the most one envelope can carry is ${MAX_RECORD_BYTES}`);
    }
    return { messageId: this.newId(), deviceId: item.deviceId, topic: item.topic, ts: item.record.ts, record, bytes };
  }

  /** Runs inside the stamp transaction. */
  private stamp(limits: StampOptions): StampedEnvelope[] {
    if (limits.acknowledged && limits.acknowledged.length > 0) acknowledgeEnvelopes(this.sql, JSON.stringify(limits.acknowledged), this.keepAckedBytes);
    const upToId = limits.upToId ?? Number.MAX_SAFE_INTEGER;
    let from = Math.max(limits.afterId ?? 0, limits.cursor?.scannedTo ?? 0, this.sql.ackedThrough());
    const whole = this.wholeChunks(from, upToId, limits);
    let plans = whole.plans;
    if (whole.plans.length > 0) from = whole.plans.at(-1)!.lastId;
    if (!whole.done) plans = [...plans, ...this.scanPlans(from, upToId, { ...limits, maxEnvelopes: limits.maxEnvelopes - plans.length })];
    if (limits.fill !== undefined && limits.readAheadBytes !== undefined) plans = readAhead(plans, limits.fill, limits.readAheadBytes);
    if (plans.length === 0) return [];
    this.sql.insertEnvelopes.run(JSON.stringify(plans.map((plan) => [plan.id, plan.lastId, plan.count, plan.recordBytes])));
    const bodies = plans.every((plan) => plan.count === 1)
      ? this.sql.singleBodies(plans.map((plan) => plan.id))
      : this.sql.bodies(JSON.stringify(plans.map((plan) => [plan.id, plan.lastId])));
    return plans.map((plan, index) => {
      const [messageId, body] = bodies[index]!;
      return { id: plan.id, messageId, deviceId: plan.deviceId, seq: plan.seq, topic: plan.topic, count: plan.count, body, recordBytes: plan.recordBytes };
    });
  }

  /**
   * The fast path for full envelopes: while the next `maxRecords` row ids (or, when bytes bound
   * the envelope, as many as fit at their mean size) all exist, are one device and topic with
   * consecutive seq, fit the byte limit and no envelope covers them, they are one envelope, found by
   * one aggregate statement instead of reading every row's header. A byte-bound chunk may hold a row
   * fewer than the scan would pack when sizes vary. Anything else (a gap, a mix, large records, the
   * tail of the queue) is left to the row-by-row scan, which carries on where this stopped unless `done`.
   */
  private wholeChunks(from: number, upToId: number, limits: StampOptions): { plans: EnvelopePlan[]; done: boolean } {
    const plans: EnvelopePlan[] = [];
    if (limits.maxRecords < MIN_CHUNK_RECORDS || this.sql.envelopesIn(from, upToId)) return { plans, done: false };
    const budget = limits.fill !== undefined && limits.readAheadBytes !== undefined ? limits.readAheadBytes : Infinity;
    let spent = 0;
    let after = from;
    let size = Math.min(limits.maxRecords, this.chunkRows);
    let misses = 0;
    while (plans.length < limits.maxEnvelopes && after + size <= upToId) {
      const chunk = this.sql.chunk(after, after + size);
      if (!chunk || chunk.count !== size || !chunk.uniform || chunk.lastSeq - chunk.firstSeq !== chunk.count - 1) break;
      const overhead = envelopeOverheadBytes(chunk.deviceId);
      // How many rows of this chunk's mean size fit one envelope: when bytes, not maxRecords, bound
      // envelopes (IoT Core's 128 KB), chunks are sized from it instead of failing at maxRecords.
      const fitting = Math.min(limits.maxRecords, Math.floor((limits.maxBytes - overhead + 1) / (chunk.bytes / chunk.count + 1)));
      if (overhead + chunk.bytes + chunk.count - 1 > limits.maxBytes) {
        misses += 1;
        size = Math.min(fitting, size - 1);
        if (size < MIN_CHUNK_RECORDS || misses > MAX_CHUNK_MISSES) break;
        continue;
      }
      if (plans.length >= (limits.fill ?? Infinity)) {
        if (spent + chunk.bytes > budget) break;
        spent += chunk.bytes;
      }
      plans.push({ id: chunk.firstId, lastId: chunk.lastId, deviceId: chunk.deviceId, topic: chunk.topic, seq: chunk.firstSeq, count: chunk.count, recordBytes: chunk.bytes });
      after = chunk.lastId;
      misses = 0;
      this.chunkRows = size = Math.max(MIN_CHUNK_RECORDS, fitting);
    }
    if (limits.cursor) limits.cursor.scannedTo = Math.max(limits.cursor.scannedTo, after);
    return { plans, done: plans.length >= limits.maxEnvelopes || (limits.fill !== undefined && plans.length >= limits.fill) };
  }

  /** Plans from row headers read one by one: any mix of devices, topics, sizes and envelopes in flight. */
  private scanPlans(from: number, upToId: number, limits: StampOptions): EnvelopePlan[] {
    if (limits.maxEnvelopes <= 0) return [];
    const limit = Math.min(limits.maxEnvelopes * limits.maxRecords, MAX_ROWS_PER_STAMP);
    const bytes = (limits.fill ?? limits.maxEnvelopes) * limits.maxBytes + (limits.readAheadBytes ?? Infinity);
    const { rows, cut } = this.sql.scan(from, upToId, limit, Math.min(limits.maxEnvelopes * limits.maxBytes, bytes));
    let plans = groupRows(rows, limits);
    const lastRow = rows.at(-1);
    const tail = plans.at(-1);
    if (cut && plans.length > 1 && tail && tail.lastId === lastRow?.id && tail.count < limits.maxRecords) {
      // The read stopped mid-run: leave that run for the next call, which can fill it.
      plans = plans.slice(0, -1);
    }
    if (limits.fill !== undefined && limits.readAheadBytes !== undefined) plans = readAhead(plans, limits.fill, limits.readAheadBytes);
    if (limits.cursor) {
      const chosenTo = plans.at(-1)?.lastId ?? from;
      const firstLeft = rows.find((row) => !row.covered && row.id > chosenTo);
      limits.cursor.scannedTo = firstLeft ? firstLeft.id - 1 : (lastRow?.id ?? from);
    }
    return plans;
  }

  /** Runs inside the append transaction. Returns what the cap policy dropped, for logging after commit. */
  private insert(rows: PreparedRow[]): { drops: DropReport[]; waiting: PreparedRow[] } {
    const { accepted, drops, waiting } = applyCap(this.sql, { bytes: this.capBytes, policy: this.capPolicy }, rows);
    this.insertRows(accepted);
    return { drops, waiting };
  }

  private insertRows(rows: PreparedRow[]): void {
    if (rows.length === 0) return;
    const perDevice = new Map<string, number>();
    for (const row of rows) perDevice.set(row.deviceId, (perDevice.get(row.deviceId) ?? 0) + 1);
    const nextSeq = new Map<string, number>();
    for (const [deviceId, count] of perDevice) {
      const last = this.sql.reserveSeq.get({ deviceId, count }) as number;
      nextSeq.set(deviceId, last - count + 1);
    }
    const bytes = rows.reduce((sum, row) => sum + row.bytes, 0);
    const reserved = this.sql.reserveRows.all({ rows: rows.length, bytes }) as [string, number][];
    let id = reserved.find(([key]) => key === 'last_row_id')![1] - rows.length;
    for (const row of rows) {
      const seq = nextSeq.get(row.deviceId)!;
      nextSeq.set(row.deviceId, seq + 1);
      id += 1;
      this.sql.insert.run(id, row.messageId, row.deviceId, seq, row.topic, row.ts, row.record, row.bytes);
    }
  }


  private logDrop(drop: DropReport): void {
    this.log.warn(
      { dropped: drop.records, bytes: drop.bytes, fromTs: drop.fromTs, toTs: drop.toTs, policy: drop.policy, capBytes: this.capBytes },
      `outbox at its cap of ${this.capBytes} bytes: dropped ${drop.records} records (${drop.policy}) from ` +
        `${new Date(drop.fromTs).toISOString()} to ${new Date(drop.toTs).toISOString()}`,
    );
  }
}

/** The first `fill` plans, then more only while their records add up to at most `bytes`. */
function readAhead(plans: EnvelopePlan[], fill: number, bytes: number): EnvelopePlan[] {
  let kept = Math.min(fill, plans.length);
  let spent = 0;
  while (kept < plans.length && spent + plans[kept]!.recordBytes <= bytes) {
    spent += plans[kept]!.recordBytes;
    kept += 1;
  }
  return kept === plans.length ? plans : plans.slice(0, kept);
}
