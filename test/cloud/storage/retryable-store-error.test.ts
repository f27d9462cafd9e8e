import { describe, expect, it } from 'vitest';
import { isRetryableStoreError } from '../../../cloud/storage/retryable-store-error.ts';

const failure = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isRetryableStoreError', () => {
  it.each([
    ['PostgreSQL restarting (admin shutdown)', failure('57P01')],
    ['PostgreSQL starting up', failure('57P03')],
    ['a connection lost mid-statement', new Error('Connection terminated unexpectedly')],
    ['a refused connection', failure('ECONNREFUSED')],
    ['a serialization failure', failure('40001')],
    ['a deadlock', failure('40P01')],
    ['too many connections', failure('53300')],
    ['a full disk on PostgreSQL', failure('53100')],
    ['SQLite busy past its timeout', failure('SQLITE_BUSY')],
    ['SQLite busy on a WAL snapshot', failure('SQLITE_BUSY_SNAPSHOT')],
    ['a full disk on SQLite', failure('SQLITE_FULL')],
  ])('retries %s', (_, error) => {
    expect(isRetryableStoreError(error)).toBe(true);
  });

  it.each([
    ['a value PostgreSQL refuses', failure('22P05')],
    ['a unique key on SQLite', failure('SQLITE_CONSTRAINT_UNIQUE')],
    ['a code that only starts like a retryable one', failure('SQLITE_BUSYNESS')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['something thrown that is no Error', 'Connection terminated'],
  ])('does not retry %s', (_, error) => {
    expect(isRetryableStoreError(error)).toBe(false);
  });
});
