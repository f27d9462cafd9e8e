// Child process for postgres-store.test.ts: migrates the database at argv[2], as an engine does at start.
import pg from 'pg';
import { migratePostgres } from '../../../cloud/storage/postgres-migrations.ts';

const pool = new pg.Pool({ connectionString: process.argv[2], max: 2 });
try {
  await migratePostgres(pool);
  process.stdout.write('migrated\n');
} finally {
  await pool.end();
}
