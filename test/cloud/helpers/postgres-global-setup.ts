// vitest globalSetup of the cloud-postgres project: ONE PostgreSQL server for the whole run. Its schema is
// migrated once into a template database, so each engine's database (test-storage.ts) is a copy that opens
// in a tenth of the time; the migrations themselves are tested on empty databases in postgres-store.test.ts.
import type { TestProject } from 'vitest/node';
import { PostgresStore } from '../../../cloud/storage/postgres-store.ts';
import { Postgres } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The cloud-postgres project's server (its `postgres` database); unset in the default project. */
    hedgerowPostgresUrl: string;
    /** The database each engine's database is copied from: every migration applied, no resources. */
    hedgerowPostgresTemplate: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await Postgres.start();
  const template = await server.createDatabase('cloud_template');
  const store = new PostgresStore({ url: template, poolSize: 1 });
  await store.open();
  await store.close();
  project.provide('hedgerowPostgresUrl', server.url);
  project.provide('hedgerowPostgresTemplate', new URL(template).pathname.slice(1));
  return async () => {
    await server.stop();
  };
}
