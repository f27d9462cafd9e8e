// setupFiles of the cloud-postgres project: each test file drops the databases its engines got.
import { afterAll } from 'vitest';
import { dropTestDatabases } from './test-storage.ts';

afterAll(dropTestDatabases);
