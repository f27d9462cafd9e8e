import type pg from 'pg';
import type { TranslatedQuery } from '../query/query-types.ts';
import type { QueryResult } from './cloud-store.ts';

/**
 * Placeholder with the agreed shape of the pg-query task's file, so the PostgreSQL store compiles
 * before that task is merged; the lead takes pg-query's version of this file at merge.
 */
const NOT_MERGED = 'dataset SQL on PostgreSQL: not merged yet';

export class PostgresQueries {
  constructor(readonly pool: pg.Pool, readonly options: { maxRows: number; maxBytes: number }) {}
  async prepare(): Promise<void> {
    throw new Error(NOT_MERGED);
  }
  async check(_q: TranslatedQuery): Promise<string | undefined> {
    throw new Error(NOT_MERGED);
  }
  async run(_q: TranslatedQuery, _outFile: string, _timeoutMs: number): Promise<QueryResult> {
    throw new Error(NOT_MERGED);
  }
  async rows(_q: TranslatedQuery, _options: { timeoutMs: number; maxRows: number }): Promise<{ columns: string[]; rows: unknown[][] }> {
    throw new Error(NOT_MERGED);
  }
  async cancelAll(): Promise<void> {
    throw new Error(NOT_MERGED);
  }
}
