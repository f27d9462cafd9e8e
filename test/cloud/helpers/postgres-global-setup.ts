// vitest globalSetup of the cloud-postgres project: ONE PostgreSQL server for the whole run, whose admin URL
// the test files get through inject('hedgerowPostgresUrl'); test-storage.ts makes a database per engine on it.
import type { TestProject } from 'vitest/node';
import { Postgres } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The cloud-postgres project's server (its `postgres` database); unset in the default project. */
    hedgerowPostgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await Postgres.start();
  project.provide('hedgerowPostgresUrl', server.url);
  return async () => {
    await server.stop();
  };
}
