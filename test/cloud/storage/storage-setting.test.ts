import { describe, expect, it } from 'vitest';
import { cloudSettings } from '../../../cloud/settings.ts';
import { PostgresStore } from '../../../cloud/storage/postgres-store.ts';
import { SqliteStore } from '../../../cloud/storage/sqlite-store.ts';
import { createStore, storageSetting } from '../../../cloud/storage/storage-setting.ts';

describe('cloud.storage', () => {
  it('defaults to SQLite and takes a postgres URL, with or without a pool size', async () => {
    expect(cloudSettings.parse({}).storage).toEqual({ kind: 'sqlite' });
    expect(storageSetting.parse('postgresql://u:p@db:5432/hedgerow')).toEqual({ kind: 'postgres', url: 'postgresql://u:p@db:5432/hedgerow', poolSize: 10 });
    expect(storageSetting.parse({ url: 'postgres://db/h', poolSize: 3 })).toEqual({ kind: 'postgres', url: 'postgres://db/h', poolSize: 3 });
    const options = { concurrency: 1, maxRows: 1, maxBytes: 1 };
    expect(await createStore(storageSetting.parse('sqlite'), '/tmp/x', options)).toBeInstanceOf(SqliteStore);
    expect(await createStore(storageSetting.parse('postgres://db/h'), '/tmp/x', options)).toBeInstanceOf(PostgresStore);
  });

  it('refuses anything else with what to write instead, never echoing the value', () => {
    const result = cloudSettings.safeParse({ storage: 'mysql://u:s3cret@db/h' });
    expect(result.success).toBe(false);
    const text = JSON.stringify(result.error?.issues);
    expect(text).toMatch(/use sqlite, or a URL like postgres:\/\/user:password@host:5432\/database/);
    expect(text).not.toContain('s3cret');
  });
});
