// Child process for sqlite-migrations.test.ts. Once the parent writes a line to stdin (so two children
// start at the same moment) it opens the SQLite store in the folder at argv[2], as an engine does at
// start; or, with argv[3] = 'slow', runs the migration runner on <folder>/slow.sqlite with a first
// version slow enough (300,000 rows) that the two runs overlap, and prints the versions it applied.
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openWalDatabase } from '../../../gateway/sqlite-wal.ts';
import { migrateSqlite, type SqliteMigration } from '../../../cloud/storage/sqlite-migrations.ts';
import { SqliteStore } from '../../../cloud/storage/sqlite-store.ts';

const SLOW: SqliteMigration[] = [
  { version: 1, name: 'slow', apply: (db) => void db.exec('CREATE TABLE filler AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT i FROM n') },
  { version: 2, name: 'second', apply: (db) => void db.exec('CREATE TABLE second (x INTEGER)') },
];

const dir = process.argv[2]!;
process.stdout.write('ready\n');
await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
if (process.argv[3] === 'slow') {
  const file = join(dir, 'slow.sqlite');
  const db = openWalDatabase(file);
  process.stdout.write(`applied ${JSON.stringify(migrateSqlite(db, file, SLOW))}\n`);
  db.close();
} else {
  const store = new SqliteStore(dir);
  await store.open();
  await store.close();
  process.stdout.write('opened\n');
}
process.exit(0);
