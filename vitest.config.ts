import { defineConfig } from 'vitest/config';
import { HeavyFirstSequencer } from './test/heavy-first-sequencer.ts';

/**
 * Cloud test files left out of the cloud-postgres project, each with why. Everything else under test/cloud
 * runs a second time there, on PostgreSQL.
 */
const NOT_ON_POSTGRES_AGAIN = [
  // They run both backends themselves (storesByBackend / BACKENDS, one server per file).
  'test/cloud/query/dataset-sql.test.ts',
  'test/cloud/query/dataset-sql-tree.test.ts',
  'test/cloud/engine/engine-datasets.test.ts',
  'test/cloud/engine/engine-delta-time.test.ts',
  'test/cloud/api/sdk-dataset-sql.test.ts',
  'test/cloud/engine/engine-workers.test.ts',
  'test/cloud/api/shared-contents.test.ts',
  // Two engines on one PostgreSQL database of its own server, by design.
  'test/cloud/api/shared-engines.test.ts',
  // Its `hedgerow cloud` child processes run on one SQLite folder and on one PostgreSQL database.
  'test/cloud/ingest/shared-workers.test.ts',
  // The conformance suite on each backend, and the PostgreSQL backend's and server helper's own tests.
  'test/cloud/storage/sqlite-store.test.ts',
  'test/cloud/storage/postgres-store.test.ts',
  'test/cloud/storage/postgres-query.test.ts',
  'test/cloud/helpers/postgres.test.ts',
  // SQLite by design: the SQLite query process and its worker pool.
  'test/cloud/storage/sqlite-query-runner.test.ts',
  // SQLite by design: the SQLite files' schema versions.
  'test/cloud/storage/sqlite-migrations.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real brokers and daemons on free ports; two cores is the machine's size.
    maxWorkers: 2,
    // The stand-in Pi's files and the e2e tests first: they are the run's longest (test/heavy-first-sequencer.ts).
    sequence: { sequencer: HeavyFirstSequencer },
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['test/**/*.test.ts'],
          exclude: ['test/bench/**', 'node_modules/**'],
        },
      },
      {
        // The cloud suite again with every engine on PostgreSQL (test/cloud/helpers/test-storage.ts): one
        // server for the run, a database per engine folder. Alone: npx vitest run --project cloud-postgres
        extends: true,
        test: {
          name: 'cloud-postgres',
          include: ['test/cloud/**/*.test.ts'],
          exclude: NOT_ON_POSTGRES_AGAIN,
          env: { HEDGEROW_TEST_STORAGE: 'postgres' },
          globalSetup: ['test/cloud/helpers/postgres-global-setup.ts'],
          setupFiles: ['test/cloud/helpers/test-storage-setup.ts'],
        },
      },
    ],
  },
});
