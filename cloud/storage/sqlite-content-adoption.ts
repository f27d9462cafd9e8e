import type Database from 'better-sqlite3';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileChunks } from './content-chunks.ts';

/**
 * Before catalog version 2, each SUCCEEDED content's CSV was a file <dataDir>/content/<dataset>/<file>.
 * Version 2 copies those files into content_chunks, in the migration's transaction (so exactly once,
 * whichever process migrates), and after the commit renames the folder aside (content.adopted), never
 * deleting it. A content whose file is missing stays without a body, and GetDatasetContent's link says
 * it is gone, as before.
 */
export function adoptContentFiles(db: Database.Database, dataDir: string): (() => void) | undefined {
  const folder = join(dataDir, 'content');
  if (!existsSync(folder)) return undefined;
  const rows = db.prepare('SELECT dataset, version, record FROM contents').all() as { dataset: string; version: string; record: string }[];
  const insert = db.prepare('INSERT INTO content_chunks (dataset, version, seq, data) VALUES (?, ?, ?, ?)');
  for (const row of rows) {
    const record = JSON.parse(row.record) as { state?: string; file?: string };
    if (record.state !== 'SUCCEEDED' || !record.file) continue;
    const file = join(folder, row.dataset.toLowerCase(), record.file);
    if (!existsSync(file)) continue;
    let seq = 0;
    for (const chunk of fileChunks(file)) insert.run(row.dataset, row.version, seq++, chunk);
  }
  // An older .adopted folder (a restored backup adopted twice) stays; the files are in the store either way.
  return () => {
    if (!existsSync(`${folder}.adopted`)) renameSync(folder, `${folder}.adopted`);
  };
}
