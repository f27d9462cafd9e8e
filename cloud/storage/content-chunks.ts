import { closeSync, openSync, readSync } from 'node:fs';
import type { ContentBody } from './cloud-store.ts';

/**
 * Dataset content bodies are stored as numbered chunks (content_chunks, both backends). A content may
 * be as large as cloud.queryResultMaxBytes (256 MiB by default, with no upper bound), past what is
 * sensible as one value: PostgreSQL caps a bytea at 1 GB, returns it hex-encoded (twice the size in
 * memory), and a single value cannot be streamed. With 1 MiB chunks a download holds one chunk at a
 * time, on either backend.
 */
export const CONTENT_CHUNK_BYTES = 1024 * 1024;

/** The file's bytes in CONTENT_CHUNK_BYTES pieces (the last one shorter); an empty file gives one empty piece, so every body has a chunk 0. */
export function* fileChunks(file: string): Generator<Buffer> {
  const fd = openSync(file, 'r');
  try {
    for (let first = true; ; first = false) {
      const chunk = Buffer.allocUnsafe(CONTENT_CHUNK_BYTES);
      let filled = 0;
      while (filled < chunk.length) {
        const read = readSync(fd, chunk, filled, chunk.length - filled, null);
        if (read === 0) break;
        filled += read;
      }
      if (filled === 0 && !first) return;
      yield filled === chunk.length ? chunk : chunk.subarray(0, filled);
      if (filled < chunk.length) return;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A body of `chunks` stored chunks (seq 0, 1, ...) read one at a time by `read`; a chunk that is gone
 * meanwhile (its row was deleted) throws `gone()`, so a download fails rather than ends short.
 */
export function chunkedBody(
  sizeBytes: number,
  chunks: number,
  read: (seq: number) => Buffer | undefined | Promise<Buffer | undefined>,
  gone: () => Error,
): ContentBody {
  return {
    sizeBytes,
    async *chunks() {
      for (let seq = 0; seq < chunks; seq++) {
        const data = await read(seq);
        if (!data) throw gone();
        yield data;
      }
    },
  };
}

/** A chunk that should be there is not: the content went while it was read. */
export function contentGone(datasetName: string, versionId: string): Error {
  return new Error(`The content of dataset "${datasetName}" version ${versionId} was deleted while it was being read; call GetDatasetContent again.`);
}

/** A bundle chunk that should be there is not: the version was deleted (or dropped past keepVersions) while it was downloaded. */
export function bundleGone(name: string, version: number): Error {
  return new Error(`The bundle of collection "${name}" version ${version} was deleted while it was being read (unpublished, or older than the versions the engine keeps); fetch the listing again and download the latest version.`);
}
