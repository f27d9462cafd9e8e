import type { OutboxStatements } from './outbox-statements.ts';

/**
 * Default for how many record bytes of acknowledged rows the file keeps before it deletes the oldest
 * of them one by one. Below it they go in one step when the queue empties; see `acknowledgeEnvelopes`.
 */
export const DEFAULT_KEEP_ACKED_BYTES = 32 * 2 ** 20;
/** Most acknowledged rows deleted one by one per acknowledgement transaction, once over the limit. */
const PURGE_ROWS = 20_000;

/**
 * Runs inside a write transaction. Marks the envelopes (a JSON array of ids) acknowledged and counts
 * their rows as sent; returns how many rows that was (envelopes already acknowledged count nothing).
 *
 * Rows are not deleted one by one here. In WAL mode SQLite writes every page a DELETE touches, the
 * ones it frees included, and copies them again at the checkpoint: deleting a sent row cost as much
 * as appending it, and twice the SD card writes. Instead, an acknowledged envelope is marked, the
 * `acked_through` mark moves over the acknowledged prefix of the queue (readers start past it), and:
 * - when every row in the file is acknowledged, every row and envelope goes at once (`DELETE`
 *   without `WHERE` frees whole pages without writing them);
 * - when a backlog never empties, the acknowledged rows past `keepAckedBytes` are deleted from the
 *   oldest, PURGE_ROWS at a time, so they never grow without bound.
 */
export function acknowledgeEnvelopes(sql: OutboxStatements, ids: string, keepAckedBytes: number): number {
  const acked = sql.unacked(ids);
  if (acked.envelopes === 0) return 0;
  sql.markAcked.run(ids);
  sql.addTotals.run({ depth: -acked.rows, bytes: -acked.bytes, sentRecords: acked.rows, sentEnvelopes: acked.envelopes });
  sql.addAckedBytes.run(acked.bytes);
  reclaim(sql, keepAckedBytes);
  return acked.rows;
}

function reclaim(sql: OutboxStatements, keepAckedBytes: number): void {
  const through = sql.advanceAckedThrough(sql.ackedThrough());
  // Decided from the rows themselves, not the running totals: all of them acknowledged.
  if (through >= (sql.lastRowInFile() ?? 0)) {
    sql.clearRows.run();
    sql.clearEnvelopes.run();
    // Nothing is queued now, whatever the running totals drifted to.
    sql.zeroQueueTotals.run();
    sql.addAckedBytes.run(-sql.ackedBytes());
    sql.setAckedThrough.run(Math.max(through, sql.lastId()));
    return;
  }
  sql.setAckedThrough.run(through);
  if (sql.ackedBytes() <= keepAckedBytes) return;
  const first = sql.firstRowAfter(0);
  if (first === null) return;
  const boundary = sql.purgeBoundary(through, first + PURGE_ROWS - 1);
  if (boundary.lastId === null) return;
  sql.deleteRowsThrough.run(boundary.lastId);
  sql.deleteEnvelopesThrough.run(boundary.lastId);
  sql.addAckedBytes.run(-boundary.bytes);
}
