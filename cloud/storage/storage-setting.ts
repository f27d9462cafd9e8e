import { z } from 'zod';
import type { CloudStore } from './cloud-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { QueryRunnerOptions } from './sqlite-query-runner.ts';

/** Connections per engine process when `cloud.storage` is a URL without a poolSize. */
export const DEFAULT_POOL_SIZE = 10;

const postgresUrl = z
  .string()
  .refine((text) => /^postgres(ql)?:\/\//.test(text) && URL.canParse(text), 'use sqlite, or a URL like postgres://user:password@host:5432/database');

/**
 * `cloud.storage`: `sqlite` (files in dataDir), a `postgres://` / `postgresql://` URL, or
 * `{ url, poolSize }` to size this process's connection pool.
 */
export const storageSetting = z
  .union([
    z.literal('sqlite'),
    postgresUrl,
    z.object({ url: postgresUrl, poolSize: z.number().int().min(1).max(1000).default(DEFAULT_POOL_SIZE) }).strict(),
  ])
  .default('sqlite')
  .transform((value) =>
    value === 'sqlite'
      ? ({ kind: 'sqlite' } as const)
      : ({ kind: 'postgres', ...(typeof value === 'string' ? { url: value, poolSize: DEFAULT_POOL_SIZE } : value) } as const),
  );

export type StorageSetting = z.output<typeof storageSetting>;

/**
 * The store the setting names; PostgreSQL's errors at open name `cloud.storage` and hide the password.
 * The PostgreSQL backend is imported only when named: loading pg starts Node's fetch (undici), which needs
 * WebAssembly, and the station's and museum's units run node with --no-expose-wasm.
 */
export async function createStore(setting: StorageSetting, dataDir: string, queryOptions: QueryRunnerOptions): Promise<CloudStore> {
  if (setting.kind === 'sqlite') return new SqliteStore(dataDir, queryOptions);
  const { PostgresStore } = await import('./postgres-store.ts');
  return new PostgresStore({ url: setting.url, poolSize: setting.poolSize, maxRows: queryOptions.maxRows, maxBytes: queryOptions.maxBytes });
}
