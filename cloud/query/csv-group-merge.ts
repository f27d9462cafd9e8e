import { CSV_LINE_END } from './csv.ts';

/**
 * Merges recomputed groups into a previous content CSV (csv.ts's format), for the incremental
 * refresh: the previous rows of the recomputed groups go, the recomputed rows take their places in
 * ORDER BY order. Rows are compared by their key fields as text, which is SQLite's (and PostgreSQL's
 * C-collation) order only for plain keys, so anything else gives undefined and the caller runs in full:
 * a device key must be ASCII letters, digits and _ . : - starting with a letter or _ (never a number,
 * never quoted or apostrophe-escaped by csv.ts); a bucket key must be 'YYYY-MM-DD HH:MM:SS.SSS' or
 * empty (NULL, which sorts first as in an ascending ORDER BY).
 */

export interface GroupKeys {
  deviceColumn: number;
  bucketColumn: number;
  /** The two key columns in ORDER BY order. */
  order: readonly [number, number];
}

const PLAIN_DEVICE = /^(?!(?:inf|infinity|nan)$)[A-Za-z_][A-Za-z0-9_.:-]*$/i;
const BUCKET = /^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})?$/;

export const isPlainDevice = (value: unknown): value is string => typeof value === 'string' && PLAIN_DEVICE.test(value);

/** The key of a group as the merge and the caller name it. */
export const groupKey = (device: string, bucket: string): string => `${device}\n${bucket}`;

/** CSV text into records (each without its line end); a quoted field may hold line breaks. */
export function csvRecords(text: string): string[] {
  const records: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(CSV_LINE_END, start);
    let quotes = countQuotes(text, start, end < 0 ? text.length : end);
    while (quotes % 2 === 1 && end >= 0) {
      const next = text.indexOf(CSV_LINE_END, end + CSV_LINE_END.length);
      quotes += countQuotes(text, end, next < 0 ? text.length : next);
      end = next;
    }
    if (end < 0) end = text.length;
    records.push(text.slice(start, end));
    start = end + CSV_LINE_END.length;
  }
  return records;
}

function countQuotes(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('"', from); i >= 0 && i < to; i = text.indexOf('"', i + 1)) n += 1;
  return n;
}

/** The record's fields up to `last`, unquoted. */
function fields(record: string, last: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (out.length <= last && i <= record.length) {
    if (record[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const q = record.indexOf('"', i);
        if (q < 0) return out;
        value += record.slice(i, q);
        if (record[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 2;
          break;
        }
      }
      out.push(value);
    } else {
      const comma = record.indexOf(',', i);
      const end = comma < 0 ? record.length : comma;
      out.push(record.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

interface Row {
  text: string;
  key: string;
  sort: [string, string];
}

/** Rows with plain keys in strictly increasing order, else undefined. */
function keyed(records: readonly string[], keys: GroupKeys): Row[] | undefined {
  const last = Math.max(keys.deviceColumn, keys.bucketColumn);
  const rows: Row[] = [];
  for (const text of records) {
    const f = fields(text, last);
    const device = f[keys.deviceColumn];
    const bucket = f[keys.bucketColumn];
    if (!isPlainDevice(device) || bucket === undefined || !BUCKET.test(bucket)) return undefined;
    const row: Row = { text, key: groupKey(device, bucket), sort: [f[keys.order[0]]!, f[keys.order[1]]!] };
    if (rows.length > 0 && compare(rows.at(-1)!, row) >= 0) return undefined;
    rows.push(row);
  }
  return rows;
}

function compare(a: Row, b: Row): number {
  for (let i = 0; i < 2; i += 1) {
    if (a.sort[i]! < b.sort[i]!) return -1;
    if (a.sort[i]! > b.sort[i]!) return 1;
  }
  return 0;
}

/**
 * The previous CSV with the groups in `recomputedKeys` replaced by their rows in `recomputed` (rows of
 * other groups there are dropped; a recomputed group with no row, e.g. filtered by HAVING, goes).
 * Undefined when the headers differ or a key is not plain.
 */
export function mergeGroups(previous: string, recomputed: string, keys: GroupKeys, recomputedKeys: ReadonlySet<string>): { text: string; rows: number } | undefined {
  const before = csvRecords(previous);
  const after = csvRecords(recomputed);
  if (before.length === 0 || before[0] !== after[0]) return undefined;
  const old = keyed(before.slice(1), keys);
  const fresh = keyed(after.slice(1), keys);
  if (!old || !fresh) return undefined;
  const kept = old.filter((r) => !recomputedKeys.has(r.key));
  const added = fresh.filter((r) => recomputedKeys.has(r.key));
  const out = [before[0]!];
  let i = 0;
  let j = 0;
  while (i < kept.length || j < added.length) {
    if (j >= added.length || (i < kept.length && compare(kept[i]!, added[j]!) < 0)) out.push(kept[i++]!.text);
    else out.push(added[j++]!.text);
  }
  return { text: out.join(CSV_LINE_END) + CSV_LINE_END, rows: out.length - 1 };
}
