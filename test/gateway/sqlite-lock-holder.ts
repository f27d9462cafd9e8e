// Child process for sqlite-wal.test.ts: holds SQLite's write lock on argv[2] for argv[3] ms, the way
// another process opening or migrating the same file does, then commits its row and exits. With
// argv[4] = 'wal' the file is switched to WAL first; otherwise it stays in the rollback journal a new
// file starts in.
import Database from 'better-sqlite3';

const [file, holdMs, mode] = [process.argv[2]!, Number(process.argv[3]), process.argv[4]];
const db = new Database(file);
if (mode === 'wal') db.pragma('journal_mode = WAL');
db.exec('CREATE TABLE IF NOT EXISTS held (x TEXT)');
db.exec('BEGIN IMMEDIATE');
db.prepare('INSERT INTO held VALUES (?)').run('from the holder');
process.stdout.write('holding\n');
setTimeout(() => {
  db.exec('COMMIT');
  db.close();
  process.stdout.write('released\n');
  process.exit(0);
}, holdMs);
