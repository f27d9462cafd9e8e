import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { csvRow } from '../query/csv.ts';

/**
 * A dataset query's CSV file as every backend writes it: rows counted and bytes capped as they are
 * written (never past the cap), into `<outFile>.partial`, renamed to `outFile` only when complete. The
 * SQLite query process and PostgresQueries both write through this, so their files and their failure
 * reasons are the same.
 */

/** A result cap was reached; says which and how to raise it. */
export function capReached(what: string, limit: number, key: string): Error {
  return new Error(`the result has more than ${limit.toLocaleString('en-US')} ${what}, the cap, and was stopped; narrow the query (WHERE, GROUP BY or LIMIT) or raise cloud.${key}`);
}

/** Why a query that overran its time limit failed. */
export const timedOut = (timeoutMs: number): string =>
  `the query ran longer than ${timeoutMs} ms and was stopped; narrow it (WHERE on time) or raise cloud.queryTimeoutMs`;

/** Bytes of CSV gathered before one write. */
const WRITE_CHUNK = 256 * 1024;

export class CsvResultFile {
  readonly partial: string;
  private readonly fd: number;
  private buffer = '';
  private written = 0;
  private closed = false;
  rowCount = 0;

  constructor(private readonly outFile: string, private readonly caps: { maxRows: number; maxBytes: number }) {
    this.partial = `${outFile}.partial`;
    this.fd = openSync(this.partial, 'w');
  }

  header(columns: readonly string[]): void {
    this.buffer += csvRow(columns);
  }

  /** Adds a row; throws (the cap's reason) past maxRows or maxBytes. */
  row(values: readonly unknown[]): void {
    this.rowCount += 1;
    if (this.rowCount > this.caps.maxRows) throw capReached('rows', this.caps.maxRows, 'queryResultMaxRows');
    this.buffer += csvRow(values);
    if (this.buffer.length >= WRITE_CHUNK) this.flush();
  }

  // Counts bytes before they reach the file, so a runaway query never writes past the cap.
  private flush(): void {
    const bytes = Buffer.byteLength(this.buffer);
    if (this.written + bytes > this.caps.maxBytes) throw capReached('bytes', this.caps.maxBytes, 'queryResultMaxBytes');
    writeSync(this.fd, this.buffer);
    this.written += bytes;
    this.buffer = '';
  }

  /** Writes what is left and puts the file in place. */
  finish(): void {
    this.flush();
    this.closed = true;
    closeSync(this.fd);
    renameSync(this.partial, this.outFile);
  }

  /** Closes and removes the partial file (safe to call after finish() failed). */
  abort(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
    rmSync(this.partial, { force: true });
  }
}
