import { isRetryableStorageError } from './postgres-errors.ts';

/**
 * Which store failures a writer should retry rather than give up on, for both backends: the
 * PostgreSQL ones (postgres-errors.ts) and SQLite's, where another process holds the lock past the
 * busy timeout, or the disk is full or failing, which the operator fixes. Anything else (a value the
 * database refuses, a bug) would fail the same way again.
 */

const RETRYABLE_SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|NOMEM|PROTOCOL)(_|$)/;

export function isRetryableStoreError(error: unknown): boolean {
  if (isRetryableStorageError(error)) return true;
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && RETRYABLE_SQLITE_CODES.test(code);
}
