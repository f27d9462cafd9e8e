import type pg from 'pg';
import type { ChannelMessageIn, SizeStats, StoredMessage } from './cloud-store.ts';
import type { SqlParams } from './postgres-statement.ts';
import type { Queryable } from './postgres-transaction.ts';
import { EXPIRE_CHUNK } from './sqlite-channels.ts';

/**
 * Channel storage on PostgreSQL: one table for all channels, keyed by the folded channel name. The
 * unique key (channel, message_id) is what drops duplicates, across every worker sharing the database
 * and across restarts; `seq` (bigserial) is the storage order reprocessing pages by.
 */

const MIN = Number.MIN_SAFE_INTEGER;
const MAX = Number.MAX_SAFE_INTEGER;

const payloadOf = (m: ChannelMessageIn): Buffer => (typeof m.payload === 'string' ? Buffer.from(m.payload) : Buffer.from(m.payload));

/** The error of insertAllSql's statement when one of its messageIds is already stored. */
export function isDuplicateMessage(error: unknown): boolean {
  const e = error as { code?: unknown; table?: unknown };
  return e.code === '23505' && e.table === 'channel_messages';
}

export class PostgresChannels {
  constructor(private readonly pool: pg.Pool) {}

  async drop(channel: string): Promise<void> {
    await this.pool.query('DELETE FROM channel_messages WHERE channel = $1', [channel.toLowerCase()]);
  }

  /** Inserts with ON CONFLICT DO NOTHING; `accepted[i]` is false for a messageId already stored (or repeated in the batch). */
  async append(channel: string, messages: readonly ChannelMessageIn[], arrival: number, db: Queryable = this.pool): Promise<boolean[]> {
    if (messages.length === 0) return [];
    const { rows } = await db.query<{ message_id: string; ord: string }>(
      `INSERT INTO channel_messages (channel, message_id, arrival, payload)
       SELECT $1, m, $2, p FROM unnest($3::text[], $4::bytea[]) WITH ORDINALITY AS t(m, p, ord) ORDER BY ord
       ON CONFLICT (channel, message_id) DO NOTHING RETURNING message_id`,
      [channel.toLowerCase(), arrival, messages.map((m) => m.messageId), messages.map(payloadOf)],
    );
    // A messageId repeated within one batch is accepted once, the first time, as SQLite does.
    const inserted = new Set(rows.map((r) => r.message_id));
    return messages.map((m) => inserted.delete(m.messageId));
  }

  /**
   * The INSERT of all of the messages for commitIngest's one statement. It has no ON CONFLICT: a
   * messageId already stored (or repeated in the batch) fails the whole statement with a unique
   * violation on channel_messages (isDuplicateMessage), so nothing of it is written.
   */
  insertAllSql(channel: string, messages: readonly ChannelMessageIn[], arrival: number, params: SqlParams): string {
    const [name, at, ids, payloads] = [channel.toLowerCase(), arrival, messages.map((m) => m.messageId), messages.map(payloadOf)].map((v) => params.add(v));
    return `INSERT INTO channel_messages (channel, message_id, arrival, payload)
       SELECT ${name}, m, ${at}, p FROM unnest(${ids}::text[], ${payloads}::bytea[]) WITH ORDINALITY AS t(m, p, ord) ORDER BY ord`;
  }

  async existing(channel: string, messageIds: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ message_id: string }>(
      'SELECT message_id FROM channel_messages WHERE channel = $1 AND message_id = ANY($2::text[])',
      [channel.toLowerCase(), [...messageIds]],
    );
    return new Set(rows.map((r) => r.message_id));
  }

  async sample(channel: string, start: number | undefined, end: number | undefined, limit: number): Promise<Buffer[]> {
    const { rows } = await this.pool.query<{ payload: Buffer }>(
      'SELECT payload FROM channel_messages WHERE channel = $1 AND arrival >= $2 AND arrival < $3 ORDER BY arrival DESC, seq DESC LIMIT $4',
      [channel.toLowerCase(), start ?? MIN, end ?? MAX, limit],
    );
    return rows.map((r) => r.payload);
  }

  async read(channel: string, options: { start?: number; end?: number; afterSeq?: number; limit: number }): Promise<StoredMessage[]> {
    const { rows } = await this.pool.query<{ seq: string; message_id: string; arrival: string; payload: Buffer }>(
      `SELECT seq, message_id, arrival, payload FROM channel_messages
       WHERE channel = $1 AND seq > $2 AND arrival >= $3 AND arrival < $4 ORDER BY seq LIMIT $5`,
      [channel.toLowerCase(), options.afterSeq ?? 0, options.start ?? MIN, options.end ?? MAX, options.limit],
    );
    return rows.map((r) => ({ seq: Number(r.seq), messageId: r.message_id, arrival: Number(r.arrival), payload: r.payload }));
  }

  async stats(channel: string, withSize: boolean): Promise<SizeStats> {
    const { rows } = await this.pool.query<{ last: string | null; count: string; size: string }>(
      withSize
        ? 'SELECT max(arrival) AS last, count(*) AS count, coalesce(sum(length(payload) + length(message_id) + 16), 0) AS size FROM channel_messages WHERE channel = $1'
        : 'SELECT max(arrival) AS last, 0 AS count, 0 AS size FROM channel_messages WHERE channel = $1',
      [channel.toLowerCase()],
    );
    const row = rows[0]!;
    return { sizeBytes: Number(row.size), count: Number(row.count), ...(row.last === null ? {} : { lastArrival: Number(row.last) }) };
  }

  /** In chunks of EXPIRE_CHUNK rows, so a big sweep never holds many row locks for long. */
  async expire(channel: string, before: number): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.pool.query(
        `DELETE FROM channel_messages WHERE seq IN (
           SELECT seq FROM channel_messages WHERE channel = $1 AND arrival < $2 LIMIT ${EXPIRE_CHUNK})`,
        [channel.toLowerCase(), before],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < EXPIRE_CHUNK) return total;
    }
  }
}
