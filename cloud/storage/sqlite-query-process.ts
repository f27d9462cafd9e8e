import Database from 'better-sqlite3';
import { CsvResultFile } from './query-output.ts';
import { registerQueryFunctions } from './sqlite-query-functions.ts';

/**
 * The child process that runs dataset queries (started by sqlite-query-runner.ts). SQLite cannot be
 * interrupted from JavaScript while a statement runs, and a worker thread cannot be stopped inside
 * native code, so a query that overruns its time limit is ended by killing this process. The
 * connection is read-only and query_only, and only a statement that returns rows is run. Result rows
 * and bytes are capped here, as the rows are written.
 */

interface QueryRequest {
  id: number;
  file: string;
  sql: string;
  params: (string | number)[];
  outFile: string;
  maxRows: number;
  maxBytes: number;
}

const connections = new Map<string, Database.Database>();

function connection(file: string): Database.Database {
  let db = connections.get(file);
  if (!db) {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('query_only = ON');
    registerQueryFunctions(db);
    connections.set(file, db);
  }
  return db;
}

/** CloudStore.queryRows: the rows are sent back, at most maxRows of them, instead of written as CSV. */
interface RowsRequest {
  id: number;
  file: string;
  sql: string;
  params: (string | number)[];
  rows: true;
  maxRows: number;
}

/** A small result read whole (the weather page's); the caller's cap says how small. */
function rows(request: RowsRequest): { columns: string[]; rows: unknown[][] } {
  const statement = connection(request.file).prepare(request.sql);
  if (!statement.reader || !statement.readonly) throw new Error('only a SELECT that reads data can run');
  statement.raw(true);
  const result: unknown[][] = [];
  for (const row of statement.iterate(...request.params) as Iterable<unknown[]>) {
    if (result.length === request.maxRows) throw new Error(`the result has more than ${request.maxRows.toLocaleString('en-US')} rows, the cap, and was stopped; narrow the query (a shorter time range)`);
    result.push(row);
  }
  return { columns: statement.columns().map((c) => c.name), rows: result };
}

function run(request: QueryRequest): { columns: string[]; rowCount: number } {
  const statement = connection(request.file).prepare(request.sql);
  if (!statement.reader || !statement.readonly) throw new Error('only a SELECT that reads data can run');
  statement.raw(true);
  const columns = statement.columns().map((c) => c.name);
  const file = new CsvResultFile(request.outFile, request);
  try {
    file.header(columns);
    for (const row of statement.iterate(...request.params) as Iterable<unknown[]>) file.row(row);
    file.finish();
  } catch (error) {
    file.abort();
    throw error;
  }
  return { columns, rowCount: file.rowCount };
}

process.on('message', (request: QueryRequest | RowsRequest) => {
  try {
    const result = 'rows' in request ? rows(request) : run(request);
    process.send!({ id: request.id, ok: true, ...result });
  } catch (error) {
    process.send!({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
