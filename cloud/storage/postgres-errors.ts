/**
 * Errors of the PostgreSQL backend that a caller can act on: a connection the server dropped
 * (restart, failover, network) is retryable, because the pool opens a new one for the next try; so is
 * a transaction the server gave up on for another's sake (serialization failure, deadlock) and a server
 * short of resources (too many connections, disk full), which an operator or time fixes.
 */

/**
 * SQLSTATE classes 08 (connection exception), 53 (insufficient resources), 57P0x (server shutting
 * down, crashed, not yet up), 40001 (serialization failure) and 40P01 (deadlock detected).
 */
const RETRYABLE_CODES = /^(08...|53...|57P0[1-3]|40001|40P01)$/;
const RETRYABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
const RETRYABLE_MESSAGES = /Connection terminated|connection (is )?closed|Client has encountered a connection error/i;

/** True when the operation failed because the database connection went away or the server asked to try again: retry it. */
export function isRetryableStorageError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (RETRYABLE_CODES.test(code) || RETRYABLE_NODE_CODES.has(code))) return true;
  return RETRYABLE_MESSAGES.test(error.message);
}
