import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { hasPostgres, Postgres } from './postgres.ts';

describe.runIf(hasPostgres())('the test PostgreSQL server', { timeout: 120_000 }, () => {
  let server: Postgres;
  beforeAll(async () => {
    server = await Postgres.start();
  }, 180_000);
  afterAll(async () => server?.stop(), 60_000);

  it('gives each caller its own database, which keeps what was committed across a restart and a crash', async () => {
    const url = await server.createDatabase('helper');
    const other = await server.createDatabase('helper');
    expect(other).not.toBe(url);
    const write = new pg.Client({ connectionString: url });
    await write.connect();
    await write.query('CREATE TABLE t (x int)');
    await write.query('INSERT INTO t VALUES (1), (2)');
    await write.end();
    await server.pause();
    await server.resume();
    await server.crash();
    await server.resume();
    const read = new pg.Client({ connectionString: url });
    await read.connect();
    const { rows } = await read.query('SELECT sum(x)::int AS s FROM t');
    await read.end();
    expect(rows[0].s).toBe(3);
  });
});
