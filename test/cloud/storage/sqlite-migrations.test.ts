import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalogMigrations } from '../../../cloud/storage/sqlite-catalog.ts';
import { DATASTORE_MIGRATIONS } from '../../../cloud/storage/sqlite-datastores.ts';
import { migrateSqlite } from '../../../cloud/storage/sqlite-migrations.ts';
import { SqliteStore } from '../../../cloud/storage/sqlite-store.ts';

// Versioned SQLite schema (issue 12): an old file is recognised as version 1 unchanged, pending
// versions apply once even when two processes open an empty folder together, a newer file is refused,
// and catalog version 2 adopts the content CSVs the old code kept under dataDir/content.

/** catalog.sqlite's DDL as the code before versioning ran it (main at 71db745, sqlite-catalog.ts). */
const OLD_CATALOG_DDL = `
CREATE TABLE IF NOT EXISTS resources (
  type TEXT NOT NULL, name TEXT NOT NULL, folded TEXT NOT NULL, definition TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (type, folded));
CREATE TABLE IF NOT EXISTS tags (arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (arn, key));
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contents (
  dataset TEXT NOT NULL, version TEXT NOT NULL, creation_time INTEGER NOT NULL, record TEXT NOT NULL,
  PRIMARY KEY (dataset, version));
CREATE INDEX IF NOT EXISTS contents_by_time ON contents (dataset, creation_time);
CREATE TABLE IF NOT EXISTS reprocessings (id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, creation_time INTEGER NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reprocessings_by_pipeline ON reprocessings (pipeline, creation_time);
CREATE TABLE IF NOT EXISTS things (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shadows (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (key TEXT PRIMARY KEY, holder TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, claimed_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS claims_by_time ON claims (claimed_at);
`;
/** datastores.sqlite's, from sqlite-datastores.ts at the same commit. */
const OLD_DATASTORES_DDL = `
CREATE TABLE IF NOT EXISTS __indexed (datastore TEXT PRIMARY KEY, attributes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS __marks (datastore TEXT PRIMARY KEY, generation TEXT NOT NULL, removals INTEGER NOT NULL);
`;

type SchemaRow = { type: string; name: string; sql: string };

function schemaOf(file: string): SchemaRow[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all() as SchemaRow[];
  } finally {
    db.close();
  }
}

function versionsOf(file: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT version FROM __migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
  } finally {
    db.close();
  }
}

function run(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  try {
    if (params.length === 0) db.exec(sql);
    else db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

const catalogVersions = catalogMigrations('/unused').map((m) => m.version);
const datastoreVersions = DATASTORE_MIGRATIONS.map((m) => m.version);

describe('SQLite schema migrations', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hedgerow-migrate-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('recognises files made by the old code as version 1, changing none of their tables, and applies only what is newer', async () => {
    const catalog = join(dir, 'catalog.sqlite');
    const datastores = join(dir, 'datastores.sqlite');
    run(catalog, OLD_CATALOG_DDL);
    run(catalog, "INSERT INTO settings (key, value) VALUES ('k', '\"kept\"')");
    run(datastores, OLD_DATASTORES_DDL);
    const before = { catalog: schemaOf(catalog), datastores: schemaOf(datastores) };

    const store = new SqliteStore(dir);
    await store.open();
    expect(await store.getSetting('k')).toBe('kept');
    await store.close();

    const after = { catalog: schemaOf(catalog), datastores: schemaOf(datastores) };
    // Every old object is there with its SQL unchanged; the only additions are the version table, version 2's
    // content chunks, version 3's secrets and alert state and version 4's published collections.
    expect(after.catalog.filter((o) => before.catalog.some((b) => b.name === o.name))).toEqual(before.catalog);
    expect(after.catalog.filter((o) => !before.catalog.some((b) => b.name === o.name)).map((o) => o.name).sort()).toEqual([
      '__migrations', 'alert_outbox', 'alert_outbox_due', 'alert_stations', 'alerts', 'alerts_by_station', 'content_chunks',
      'published_bundle_chunks', 'published_collections', 'secrets',
    ]);
    expect(after.datastores.filter((o) => !before.datastores.some((b) => b.name === o.name)).map((o) => o.name)).toEqual(['__migrations']);
    expect(after.datastores.filter((o) => before.datastores.some((b) => b.name === o.name))).toEqual(before.datastores);
    expect(versionsOf(catalog)).toEqual(catalogVersions);
    expect(versionsOf(datastores)).toEqual(datastoreVersions);

    // Opening again applies nothing.
    const db = new Database(catalog);
    expect(migrateSqlite(db, catalog, catalogMigrations(dir))).toEqual([]);
    db.close();
  });

  it('refuses a file made by a newer Hedgerow, saying to upgrade, and leaves it as it was', async () => {
    const store = new SqliteStore(dir);
    await store.open();
    await store.close();
    const catalog = join(dir, 'catalog.sqlite');
    run(catalog, 'INSERT INTO __migrations (version, name, applied_at) VALUES (?, ?, ?)', 99, 'from the future', 1);
    await expect(new SqliteStore(dir).open()).rejects.toThrow(/catalog\.sqlite has schema version 99, newer than this Hedgerow knows \(\d+\): upgrade Hedgerow/);
    expect(versionsOf(catalog)).toEqual([...catalogVersions, 99]);
  });

  /** Two children started together on `dir`; resolves with their exit codes and output. */
  async function twoChildren(...args: string[]): Promise<{ code: number | null; out: string }[]> {
    const script = join(import.meta.dirname, 'sqlite-migrate-child.ts');
    const children = [0, 1].map(() => spawn(process.execPath, ['bin/run-ts.js', script, dir, ...args], { cwd: join(import.meta.dirname, '../../..'), stdio: ['pipe', 'pipe', 'pipe'] }));
    const results = children.map(
      (child) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          let out = '';
          child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
          child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
          const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
          child.on('exit', (code) => {
            clearTimeout(timer);
            resolve({ code, out });
          });
        }),
    );
    // Both have loaded the code; then both are told to go at once.
    await Promise.all(children.map((child) => new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve()))));
    for (const child of children) child.stdin!.write('go\n');
    return Promise.all(results);
  }

  it('applies each version once when two processes open an empty folder at the same moment', async () => {
    const done = await twoChildren();
    expect(done.map((r) => [r.code, r.out.trim()])).toEqual([[0, 'ready\nopened'], [0, 'ready\nopened']]);
    expect(versionsOf(join(dir, 'catalog.sqlite'))).toEqual(catalogVersions);
    expect(versionsOf(join(dir, 'datastores.sqlite'))).toEqual(datastoreVersions);
  }, 120_000);

  it('lets one of two overlapping runs apply the versions while the other waits and applies none', async () => {
    const done = await twoChildren('slow');
    expect(done.map((r) => r.code), done.map((r) => r.out).join('\n')).toEqual([0, 0]);
    const applied = done.map((r) => r.out.match(/^applied (.*)$/m)![1]!).sort();
    expect(applied).toEqual(['[1,2]', '[]']);
    expect(versionsOf(join(dir, 'slow.sqlite'))).toEqual([1, 2]);
  }, 120_000);

  it('adopts the content CSVs the old code kept under dataDir/content once, byte for byte, and renames the folder aside', async () => {
    const catalog = join(dir, 'catalog.sqlite');
    run(catalog, OLD_CATALOG_DDL);
    const csv = Buffer.concat([Buffer.from('n,note\r\n'), Buffer.alloc(1024 * 1024 + 7, 'é')]);
    const records = [
      { datasetName: 'Daily', versionId: 'v1', state: 'SUCCEEDED', creationTime: 1, scheduleTime: 1, file: 'v1.csv' },
      { datasetName: 'Daily', versionId: 'v2', state: 'SUCCEEDED', creationTime: 2, scheduleTime: 2, file: 'v2.csv' },
      { datasetName: 'Daily', versionId: 'v3', state: 'FAILED', reason: 'x', creationTime: 3, scheduleTime: 3 },
    ];
    for (const r of records) run(catalog, 'INSERT INTO contents (dataset, version, creation_time, record) VALUES (?, ?, ?, ?)', r.datasetName, r.versionId, r.creationTime, JSON.stringify(r));
    // The old code's layout: <dataDir>/content/<dataset, lower case>/<file>; v2's file was lost.
    mkdirSync(join(dir, 'content', 'daily'), { recursive: true });
    writeFileSync(join(dir, 'content', 'daily', 'v1.csv'), csv);

    const store = new SqliteStore(dir);
    await store.open();
    try {
      const body = (await store.openContentBody('Daily', 'v1'))!;
      expect(body.sizeBytes).toBe(csv.length);
      const parts: Buffer[] = [];
      for await (const chunk of body.chunks()) parts.push(chunk);
      expect(Buffer.concat(parts).equals(csv)).toBe(true);
      expect(await store.openContentBody('Daily', 'v2')).toBeUndefined();
      expect(await store.openContentBody('Daily', 'v3')).toBeUndefined();
    } finally {
      await store.close();
    }
    expect(existsSync(join(dir, 'content'))).toBe(false);
    expect(readFileSync(join(dir, 'content.adopted', 'daily', 'v1.csv')).equals(csv)).toBe(true);

    // A content folder that appears later (a restored backup) is not adopted again: version 2 is recorded.
    mkdirSync(join(dir, 'content', 'daily'), { recursive: true });
    writeFileSync(join(dir, 'content', 'daily', 'v2.csv'), 'late');
    const again = new SqliteStore(dir);
    await again.open();
    expect(await again.openContentBody('Daily', 'v2')).toBeUndefined();
    expect((await again.openContentBody('Daily', 'v1'))?.sizeBytes).toBe(csv.length);
    await again.close();
  });
});
