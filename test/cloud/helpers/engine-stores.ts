import type { CloudSettings } from '../../../cloud/settings.ts';
import type { CloudStore } from '../../../cloud/storage/cloud-store.ts';
import { PostgresStore } from '../../../cloud/storage/postgres-store.ts';
import { Postgres } from './postgres.ts';

/** A PostgresStore on a fresh database of `server`, with the engine's result caps. */
export async function freshPostgresStore(server: Postgres, caps: { maxRows: number; maxBytes: number }, prefix = 'engine'): Promise<PostgresStore> {
  return new PostgresStore({ url: await server.createDatabase(prefix), poolSize: 5, ...caps });
}

/** Engine stores per backend (undefined: the engine's own SQLite store); PostgreSQL on one server per test file. */
export function storesByBackend(): { store(backend: 'SQLite' | 'PostgreSQL'): ((settings: CloudSettings) => Promise<CloudStore>) | undefined; stop(): Promise<void> } {
  let server: Promise<Postgres> | undefined;
  return {
    store: (backend) =>
      backend === 'SQLite'
        ? undefined
        : async (settings) => freshPostgresStore(await (server ??= Postgres.start()), { maxRows: settings.queryResultMaxRows, maxBytes: settings.queryResultMaxBytes }),
    stop: async () => (await server)?.stop(),
  };
}
