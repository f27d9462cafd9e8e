import pg from 'pg';
import Cursor from 'pg-cursor';
import { HELPER_SCHEMA } from '../query/postgres-dialect.ts';
import type { TranslatedQuery } from '../query/query-types.ts';
import type { QueryResult } from './cloud-store.ts';
import { QUERY_FUNCTIONS, QUERY_FUNCTIONS_VERSION } from './postgres-query-functions.ts';
import { CsvResultFile, timedOut } from './query-output.ts';
import { pgQueryTypes } from './postgres-query-types.ts';
import { QueryError } from './sqlite-query-runner.ts';

const { Client } = pg;

/**
 * Dataset SQL on PostgreSQL (written by cloud/query/postgres-dialect.ts): checked with EXPLAIN, run in a
 * READ ONLY transaction with a statement_timeout, rows streamed through a cursor into the same CSV
 * writer as SQLite's (cloud/storage/query-output.ts), with the same caps and reasons. Values come back
 * through pgQueryTypes, so the CSV is byte for byte SQLite's for the same data.
 */

/** Rows fetched from the cursor at a time. */
const BATCH = 1000;
/** The advisory lock prepare() takes, so two workers starting at once do not replace the helpers together. */
const PREPARE_LOCK = 0x4864_5371; // "HdSq"
/** Past the statement_timeout, the engine cancels the query itself (a server that stopped answering). */
const WATCHDOG_GRACE_MS = 5000;

const STOPPED = 'the query process ended: the engine stopped while the query ran; run it again';

interface Running {
  pid: number;
  stopped: boolean;
  overran: boolean;
  /** Settles when the query has ended, however it ended. */
  ended: Promise<void>;
}

/** How often cancelAll() asks again, and for how long at most. */
const CANCEL_RETRY_MS = 100;
const CANCEL_TRIES = 100;

/** What a PostgreSQL error says to the user, in SQLite's words where the engine reads them (no such column). */
function reason(error: unknown, running: Pick<Running, 'stopped' | 'overran'>, timeoutMs: number): string {
  const e = error as { code?: string; message?: string; hint?: string };
  if (running.stopped) return STOPPED;
  if (running.overran || (e.code === '57014' && /statement timeout/.test(e.message ?? ''))) return timedOut(timeoutMs);
  const message = String(e.message ?? error).replaceAll(`${HELPER_SCHEMA}.`, '');
  if (e.code === '42703') {
    const column = /^column (.+) does not exist$/.exec(message)?.[1];
    if (column) return `no such column: ${column}`;
  }
  return e.hint ? `${message} (${e.hint.replaceAll(`${HELPER_SCHEMA}.`, '')})` : message;
}

export class PostgresQueries {
  private readonly running = new Set<Running>();

  constructor(private readonly pool: pg.Pool, private readonly options: { maxRows: number; maxBytes: number }) {}

  /** Installs the helper functions once per QUERY_FUNCTIONS_VERSION, under a transaction-level advisory lock. */
  async prepare(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [PREPARE_LOCK]);
      // The helpers call each other; checking a body before the function it calls exists would fail.
      await client.query('SET LOCAL check_function_bodies = off');
      const installed = await client.query<{ version: string | null }>(
        "SELECT obj_description(oid, 'pg_namespace') AS version FROM pg_namespace WHERE nspname = $1",
        [HELPER_SCHEMA],
      );
      if (installed.rows[0]?.version !== `hedgerow ${QUERY_FUNCTIONS_VERSION}`) {
        for (const statement of QUERY_FUNCTIONS) await client.query(statement);
        await client.query(`COMMENT ON SCHEMA ${HELPER_SCHEMA} IS 'hedgerow ${QUERY_FUNCTIONS_VERSION}'`);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Plans the query without running it: undefined if PostgreSQL accepts it, else its reason. */
  async check(query: TranslatedQuery): Promise<string | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      await client.query({ text: `EXPLAIN ${query.sql}`, values: query.params });
      return undefined;
    } catch (error) {
      return reason(error, { stopped: false, overran: false }, 0);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  async run(query: TranslatedQuery, outFile: string, timeoutMs: number): Promise<QueryResult> {
    let columns: string[] = [];
    let file: CsvResultFile | undefined;
    try {
      await this.stream(query, timeoutMs, (names) => {
        columns = names;
        file = new CsvResultFile(outFile, this.options);
        file.header(names);
      }, (row) => file!.row(row));
      file!.finish();
      return { columns, rowCount: file!.rowCount };
    } catch (error) {
      file?.abort();
      throw error;
    }
  }

  /** Contract 5 (queryRows): the rows themselves, for the weather page, capped at maxRows. */
  async rows(query: TranslatedQuery, options: { timeoutMs: number; maxRows: number }): Promise<{ columns: string[]; rows: unknown[][] }> {
    let columns: string[] = [];
    const rows: unknown[][] = [];
    await this.stream(query, options.timeoutMs, (names) => (columns = names), (row) => {
      if (rows.length >= options.maxRows) throw new QueryError(`the result has more than ${options.maxRows.toLocaleString('en-US')} rows, the cap, and was stopped; narrow the query`);
      rows.push(row);
    });
    return { columns, rows };
  }

  /**
   * Cancels every query running now; each fails with "the query process ended". PostgreSQL drops a cancel
   * that arrives while the backend waits for the cursor's next message, so it is sent again until they end.
   */
  async cancelAll(): Promise<void> {
    const running = [...this.running];
    for (const r of running) r.stopped = true;
    for (let tries = 0; tries < CANCEL_TRIES; tries += 1) {
      const left = running.filter((r) => this.running.has(r));
      if (left.length === 0) return;
      await this.cancel(left.map((r) => r.pid));
      await Promise.race([Promise.all(left.map((r) => r.ended)), new Promise((resolve) => setTimeout(resolve, CANCEL_RETRY_MS))]);
    }
  }

  /** On a connection of its own: with every pooled one running a query, the pool would make it wait for them. */
  private async cancel(pids: number[]): Promise<void> {
    const client = new Client(this.pool.options);
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT pg_cancel_backend(pid) FROM unnest($1::integer[]) AS pid', [pids]);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Runs the query read-only, handing over the column names and then each row; the error is the user's reason. */
  private async stream(query: TranslatedQuery, timeoutMs: number, onColumns: (names: string[]) => void, onRow: (row: unknown[]) => void): Promise<void> {
    const client = await this.pool.connect();
    let end = (): void => undefined;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const running: Running = { pid: (client as unknown as { processID: number }).processID, stopped: false, overran: false, ended };
    this.running.add(running);
    const watchdog = setTimeout(() => {
      running.overran = true;
      void this.cancel([running.pid]).catch(() => undefined);
    }, timeoutMs + WATCHDOG_GRACE_MS);
    let broken: Error | undefined;
    try {
      // One timeout for the whole cursor: the server counts it from the first message until the Sync at its end.
      await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'`);
      const cursor = client.query(new Cursor<unknown[]>(query.sql, query.params, { rowMode: 'array', types: pgQueryTypes }));
      try {
        let named = false;
        for (;;) {
          if (running.stopped) throw new QueryError(STOPPED);
          const rows = await cursor.read(BATCH);
          if (!named) {
            // pg-cursor keeps the row description on its result; its types do not show it.
            const fields = (cursor as unknown as { _result: { fields: { name: string }[] } })._result.fields;
            onColumns(fields.map((f) => query.columnNames?.[f.name] ?? f.name));
            named = true;
          }
          for (const row of rows) onRow(row);
          if (rows.length === 0) break;
        }
      } finally {
        await cursor.close().catch(() => undefined);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      // A cap's own error (no code) keeps its reason; the server's are put in the user's terms.
      if (running.stopped || running.overran || (error as { code?: unknown }).code !== undefined) throw new QueryError(reason(error, running, timeoutMs));
      throw error;
    } finally {
      clearTimeout(watchdog);
      this.running.delete(running);
      end();
      client.release(broken);
    }
  }
}
