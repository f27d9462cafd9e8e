import type { Logger } from 'pino';
import { messageProblem, parsePayload } from './names.ts';

/**
 * Binary messages. IoT Analytics stored any blob in a channel ("a base64-encoded string representing
 * binary data, in which case you must decode it by means of a pipeline activity"). A payload that is
 * not a JSON object is kept as sent and moves through a pipeline as `{ payload: <bytes> }`; only a
 * lambda activity takes it (and may decode it into attributes). Every other activity, and the datastore,
 * refuses it per message, counted and logged, never failing the batch.
 */

export const NOT_DECODED =
  'the message payload is not a JSON object (binary data?); decode it with a lambda activity first, which receives it as { payload: <bytes> }';

/** Warnings about refused binary messages: at most one per pipeline per this many ms; the rest are counted in the next. */
export const REFUSAL_WARN_INTERVAL_MS = 10_000;

/** A binary message as the pipeline carries it. JSON never yields a Uint8Array, so the shape cannot be mistaken for a parsed one. */
export function binaryMessage(payload: Uint8Array): Record<string, unknown> {
  return { payload: Buffer.from(payload) };
}

export function isBinaryMessage(message: Record<string, unknown>): boolean {
  return message.payload instanceof Uint8Array && Object.keys(message).length === 1;
}

/** The pipeline message for a payload: the JSON object it holds, or the bytes as a binary message; a problem only for an empty, oversized or invalid JSON object. */
export function messageOfPayload(payload: Uint8Array, maxBytes: number): { value: Record<string, unknown> } | { problem: string } {
  if (payload.byteLength === 0 || payload.byteLength > maxBytes) return parsePayload(payload, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return { value: binaryMessage(payload) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { value: binaryMessage(payload) };
  const problem = messageProblem(value as Record<string, unknown>);
  return problem ? { problem } : { value: value as Record<string, unknown> };
}

/** The bytes to hand back for a message (RunPipelineActivity): a binary message's own, else its JSON. */
export function payloadOfMessage(message: Record<string, unknown>): Buffer {
  return isBinaryMessage(message) ? Buffer.from(message.payload as Uint8Array) : Buffer.from(JSON.stringify(message));
}

/** Called with the activity ("datastore" at the end) and how many binary messages it refused. */
export type RefusalSink = (activity: string, count: number) => void;

/** Counts refused binary messages per pipeline and logs at most one warning per pipeline per interval. */
export class BinaryRefusals {
  private readonly perPipeline = new Map<string, { total: number; lastWarn: number; unlogged: number }>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** Refusals so far of one pipeline. */
  count(pipelineName: string): number {
    return this.perPipeline.get(pipelineName.toLowerCase())?.total ?? 0;
  }

  sinkFor(pipelineName: string): RefusalSink {
    return (activity, count) => {
      const key = pipelineName.toLowerCase();
      const entry = this.perPipeline.get(key) ?? { total: 0, lastWarn: -Infinity, unlogged: 0 };
      this.perPipeline.set(key, entry);
      entry.total += count;
      entry.unlogged += count;
      const at = this.now();
      if (at - entry.lastWarn < REFUSAL_WARN_INTERVAL_MS) return;
      this.log.warn({ pipeline: pipelineName, activity, refused: entry.unlogged, refusedSinceStart: entry.total, reason: NOT_DECODED }, 'pipeline refused binary messages');
      entry.lastWarn = at;
      entry.unlogged = 0;
    };
  }
}
