import type pg from 'pg';
import type { ContentBody } from './cloud-store.ts';
import { chunkedBody } from './content-chunks.ts';

/**
 * A body kept as numbered chunks (seq, data) in `table`, selected by `where` on `params` ($1, $2, ...):
 * dataset contents and published bundles. Undefined when it has no chunk; each chunk is read when the
 * download reaches it, so a large body is never one value in memory.
 */
export async function openPostgresChunks(pool: pg.Pool, table: string, where: string, params: unknown[], gone: () => Error): Promise<ContentBody | undefined> {
  const { rows } = await pool.query<{ chunks: number; size: string }>(
    `SELECT count(*)::int AS chunks, coalesce(sum(octet_length(data)), 0)::text AS size FROM ${table} WHERE ${where}`,
    params,
  );
  const { chunks, size } = rows[0]!;
  if (chunks === 0) return undefined;
  const read = async (seq: number) =>
    (await pool.query<{ data: Buffer }>(`SELECT data FROM ${table} WHERE ${where} AND seq = $${params.length + 1}`, [...params, seq])).rows[0]?.data;
  return chunkedBody(Number(size), chunks, read, gone);
}
