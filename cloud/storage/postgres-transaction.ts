import type pg from 'pg';

/** A pool or a client inside a transaction: both run queries. */
export type Queryable = Pick<pg.Pool, 'query'>;

/** Runs `work` on one connection between BEGIN and COMMIT; any error rolls everything back. */
export async function inTransaction<T>(pool: pg.Pool, work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
