import { z } from 'zod';
import type { CloudStore } from './cloud-store.ts';
import { PostgresStore } from './postgres-store.ts';
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

/** The store the setting names; PostgreSQL's errors at open name `cloud.storage` and hide the password. */
export function createStore(setting: StorageSetting, dataDir: string, queryOptions: QueryRunnerOptions): CloudStore {
  return setting.kind === 'sqlite' ? new SqliteStore(dataDir, queryOptions) : new PostgresStore({ url: setting.url, poolSize: setting.poolSize, maxRows: queryOptions.maxRows, maxBytes: queryOptions.maxBytes });
}
