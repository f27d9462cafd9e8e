// Which backend the cloud suite runs on. The default project runs it on SQLite (files in each engine's
// dataDir); the cloud-postgres project (vitest.config.ts) sets HEDGEROW_TEST_STORAGE=postgres, and then every
// engine the fixtures make gets `cloud.storage: <url>` of a database of its own on the run's one server.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';

/** The backend under test: `postgres` in the cloud-postgres project, else `sqlite`. */
export const TEST_STORAGE: 'sqlite' | 'postgres' = process.env.HEDGEROW_TEST_STORAGE === 'postgres' ? 'postgres' : 'sqlite';

/** Databases made in this test file, by engine folder: an engine restarted on the same folder finds its data again. */
const databases = new Map<string, Promise<string>>();

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('hedgerowPostgresUrl') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The `cloud:` keys that put an engine on `dataDir` onto the backend under test: nothing on SQLite; on
 * PostgreSQL `storage: <url>` of a fresh database (a copy of the migrated template), the same one for
 * every engine on that folder (two workers on one folder share one database, as in production).
 */
export async function testStorage(dataDir: string): Promise<{ storage?: string }> {
  if (TEST_STORAGE === 'sqlite') return {};
  const key = resolve(dataDir);
  let url = databases.get(key);
  if (!url) {
    const name = `cloud_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
    url = admin(async (client) => {
      await client.query(`CREATE DATABASE "${name}" TEMPLATE "${inject('hedgerowPostgresTemplate')}"`);
      const base = new URL(inject('hedgerowPostgresUrl'));
      base.pathname = `/${name}`;
      return base.toString();
    });
    databases.set(key, url);
  }
  return { storage: await url };
}

/** Drops this file's databases (test-storage-setup.ts calls it after the file), so the run's server stays small. */
export async function dropTestDatabases(): Promise<void> {
  const urls = await Promise.allSettled(databases.values());
  databases.clear();
  const names = urls.flatMap((u) => (u.status === 'fulfilled' ? [new URL(u.value).pathname.slice(1)] : []));
  if (names.length === 0) return;
  // FORCE: an engine a failed test left running must not keep its database alive.
  await admin(async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}
