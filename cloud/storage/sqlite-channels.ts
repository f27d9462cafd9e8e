import type Database from 'better-sqlite3';
import { sqlIdentifier } from '../query/sql-tokenizer.ts';
import type { ChannelMessageIn, SizeStats, StoredMessage } from './cloud-store.ts';

/**
 * One table per channel, raw payloads kept as sent, in datastores.sqlite beside the datastore tables
 * so that a message and its datastore rows commit in one transaction (SQLite is not atomic across
 * WAL files). The unique messageId index is what drops duplicates, across processes and restarts
 * (a retried envelope adds nothing); the arrival index serves sampling, reprocessing windows and
 * retention. Dataset SQL cannot name these tables: it only reaches datastore views (sql-parse.ts).
 */

/** Rows deleted per statement by retention, so a big sweep never holds the write lock for long. */
export const EXPIRE_CHUNK = 10_000;

interface ChannelStatements {
  insertOrIgnore: Database.Statement;
  insert: Database.Statement;
  exists: Database.Statement;
}

/** messageIds looked up per statement (SQLite's default limit on host parameters is 32766). */
const LOOKUP_CHUNK = 500;

const table = (channel: string): string => sqlIdentifier(`__ch_${channel.toLowerCase()}`);

export class SqliteChannels {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, ChannelStatements>();

  /** The datastores' connection: the file and its pragmas are SqliteDatastores'. */
  constructor(db: Database.Database) {
    this.db = db;
  }

  create(channel: string): void {
    const t = table(channel);
    const index = (suffix: string) => sqlIdentifier(`__ch_${channel.toLowerCase()}_${suffix}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ${t} (seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL, arrival INTEGER NOT NULL, payload BLOB NOT NULL);
      CREATE UNIQUE INDEX IF NOT EXISTS ${index('id')} ON ${t} (message_id);
      CREATE INDEX IF NOT EXISTS ${index('arrival')} ON ${t} (arrival);`);
  }

  drop(channel: string): void {
    this.statements.delete(channel.toLowerCase());
    this.db.exec(`DROP TABLE IF EXISTS ${table(channel)}`);
  }

  private prepared(channel: string): ChannelStatements {
    const key = channel.toLowerCase();
    let statements = this.statements.get(key);
    if (!statements) {
      statements = {
        insertOrIgnore: this.db.prepare(`INSERT OR IGNORE INTO ${table(channel)} (message_id, arrival, payload) VALUES (?, ?, ?)`),
        insert: this.db.prepare(`INSERT INTO ${table(channel)} (message_id, arrival, payload) VALUES (?, ?, ?)`),
        exists: this.db.prepare(`SELECT message_id AS id FROM ${table(channel)} WHERE message_id IN (SELECT value FROM json_each(?))`),
      };
      this.statements.set(key, statements);
    }
    return statements;
  }

  append(channel: string, messages: readonly ChannelMessageIn[], arrival: number): boolean[] {
    const { insertOrIgnore: insert } = this.prepared(channel);
    const accepted: boolean[] = new Array<boolean>(messages.length);
    this.db.transaction(() => {
      for (let i = 0; i < messages.length; i += 1) {
        const message = messages[i]!;
        const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload;
        accepted[i] = insert.run(message.messageId, arrival, payload).changes === 1;
      }
    })();
    return accepted;
  }

  existing(channel: string, messageIds: readonly string[]): Set<string> {
    const { exists } = this.prepared(channel);
    const found = new Set<string>();
    for (let i = 0; i < messageIds.length; i += LOOKUP_CHUNK) {
      const rows = exists.all(JSON.stringify(messageIds.slice(i, i + LOOKUP_CHUNK))) as { id: string }[];
      for (const row of rows) found.add(row.id);
    }
    return found;
  }

  /** Inserts every message or throws (SQLITE_CONSTRAINT_UNIQUE for a stored messageId); the caller holds the transaction. */
  insertAll(channel: string, messages: readonly ChannelMessageIn[], arrival: number): void {
    const { insert } = this.prepared(channel);
    for (const message of messages) {
      insert.run(message.messageId, arrival, typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload);
    }
  }

  sample(channel: string, start: number | undefined, end: number | undefined, limit: number): Buffer[] {
    const rows = this.db
      .prepare(`SELECT payload FROM ${table(channel)} WHERE arrival >= ? AND arrival < ? ORDER BY arrival DESC, seq DESC LIMIT ?`)
      .all(start ?? Number.MIN_SAFE_INTEGER, end ?? Number.MAX_SAFE_INTEGER, limit) as { payload: Buffer }[];
    return rows.map((row) => row.payload);
  }

  read(channel: string, options: { start?: number; end?: number; afterSeq?: number; limit: number }): StoredMessage[] {
    const rows = this.db
      .prepare(
        `SELECT seq, message_id AS messageId, arrival, payload FROM ${table(channel)}
         WHERE seq > ? AND arrival >= ? AND arrival < ? ORDER BY seq LIMIT ?`,
      )
      .all(options.afterSeq ?? 0, options.start ?? Number.MIN_SAFE_INTEGER, options.end ?? Number.MAX_SAFE_INTEGER, options.limit);
    return rows as StoredMessage[];
  }

  stats(channel: string, withSize: boolean): SizeStats {
    const t = table(channel);
    const last = this.db.prepare(`SELECT max(arrival) AS last FROM ${t}`).get() as { last: number | null };
    const counted = withSize
      ? (this.db.prepare(`SELECT count(*) AS count, coalesce(sum(length(payload) + length(message_id) + 16), 0) AS size FROM ${t}`).get() as { count: number; size: number })
      : { count: 0, size: 0 };
    return { sizeBytes: counted.size, count: counted.count, ...(last.last === null ? {} : { lastArrival: last.last }) };
  }

  expire(channel: string, before: number): number {
    const remove = this.db.prepare(`DELETE FROM ${table(channel)} WHERE seq IN (SELECT seq FROM ${table(channel)} WHERE arrival < ? LIMIT ${EXPIRE_CHUNK})`);
    let total = 0;
    for (;;) {
      const changes = remove.run(before).changes;
      total += changes;
      if (changes < EXPIRE_CHUNK) return total;
    }
  }
}
