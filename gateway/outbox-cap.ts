import type { OutboxStatements } from './outbox-statements.ts';

/** What append does when a batch would take the queued record bytes past the cap. */
export type CapPolicy = 'drop-oldest' | 'drop-newest' | 'block';

/**
 * The smallest nonzero cap: 1 MiB. One record may be up to 100 kB (MAX_RECORD_BYTES) and one IoT Core
 * envelope 128 kB, so a smaller cap could hold only a few of the largest and drop nearly every record;
 * 1 MiB still holds about 3,000 weather records of a few hundred bytes (10 days at 5 minutes) and is
 * nothing on an SD card.
 */
export const MIN_CAP_BYTES = 1024 ** 2;

/** Rows read per step when the cap evicts the oldest rows. */
const EVICT_CHUNK = 500;

/** One policy's drops in one append, logged after the commit with its time range. */
export interface DropReport {
  policy: CapPolicy;
  records: number;
  bytes: number;
  fromTs: number;
  toTs: number;
}

/** What the cap needs of an incoming row. */
export interface CappedRow {
  ts: number;
  bytes: number;
}

/**
 * Runs inside the append transaction: makes room for `rows` under `cap.bytes` (0: no cap) by the
 * policy, counting every drop. Returns the rows to insert, what was dropped and, under `block`,
 * the rows that must wait (the leading rows that fit go in; the rest keep their order).
 */
export function applyCap<T extends CappedRow>(
  sql: OutboxStatements,
  cap: { bytes: number; policy: CapPolicy },
  rows: T[],
): { accepted: T[]; drops: DropReport[]; waiting: T[] } {
  const drops: DropReport[] = [];
  if (cap.bytes <= 0) return { accepted: rows, drops, waiting: [] };
  const queued = sql.queuedBytes();
  const incoming = rows.reduce((sum, row) => sum + row.bytes, 0);
  const over = queued + incoming - cap.bytes;
  if (over <= 0) return { accepted: rows, drops, waiting: [] };
  if (cap.policy === 'block') {
    let fit = 0;
    for (let room = cap.bytes - queued; fit < rows.length && rows[fit]!.bytes <= room; fit += 1) room -= rows[fit]!.bytes;
    return { accepted: rows.slice(0, fit), drops, waiting: rows.slice(fit) };
  }
  if (cap.policy === 'drop-newest') return { accepted: dropNewest(sql, rows, over, drops), drops, waiting: [] };
  const freed = evictOldest(sql, over, drops);
  return { accepted: freed < over ? dropNewest(sql, rows, over - freed, drops) : rows, drops, waiting: [] };
}

/** Deletes the oldest never-published rows until `needed` bytes are free. Stamped rows stay: they may be in flight. */
function evictOldest(sql: OutboxStatements, needed: number, drops: DropReport[]): number {
  let freed = 0;
  const report: DropReport = { policy: 'drop-oldest', records: 0, bytes: 0, fromTs: Infinity, toTs: -Infinity };
  while (freed < needed) {
    const victims = sql.oldestUncovered.all(EVICT_CHUNK) as { id: number; ts: number; bytes: number }[];
    if (victims.length === 0) break;
    for (const victim of victims) {
      if (freed >= needed) break;
      sql.deleteRow.run(victim.id);
      freed += victim.bytes;
      report.records += 1;
      report.bytes += victim.bytes;
      report.fromTs = Math.min(report.fromTs, victim.ts);
      report.toTs = Math.max(report.toTs, victim.ts);
    }
  }
  if (report.records > 0) {
    sql.addTotals.run({ depth: -report.records, bytes: -report.bytes, sentRecords: 0, sentEnvelopes: 0 });
    sql.addDropped.run(report.records);
    drops.push(report);
  }
  return freed;
}

/** Keeps the batch's leading records that fit and drops the rest of it. */
function dropNewest<T extends CappedRow>(sql: OutboxStatements, rows: T[], over: number, drops: DropReport[]): T[] {
  let kept = rows.length;
  let freed = 0;
  while (kept > 0 && freed < over) {
    kept -= 1;
    freed += rows[kept]!.bytes;
  }
  const droppedRows = rows.slice(kept);
  const report: DropReport = {
    policy: 'drop-newest',
    records: droppedRows.length,
    bytes: freed,
    fromTs: Math.min(...droppedRows.map((row) => row.ts)),
    toTs: Math.max(...droppedRows.map((row) => row.ts)),
  };
  sql.addDropped.run(report.records);
  drops.push(report);
  return rows.slice(0, kept);
}
