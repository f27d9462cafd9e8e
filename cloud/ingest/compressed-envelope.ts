import { inflateSync } from 'node:zlib';
import { COMPRESSED_ENVELOPE, compressedTopic, plainTopicOf } from '../../hardware/core/contract.ts';
import { InvalidRequestException } from '../engine/errors.ts';
import { MAX_PAYLOAD_BYTES } from '../settings.ts';

/**
 * The cloud's side of compressed envelopes (hardware/core/contract.ts COMPRESSED_ENVELOPE): which
 * extra topic filters to hold, and the payload back as the plain JSON it stands for. What comes out
 * goes through exactly the ingest a plain payload does; what cannot come out is refused like a bad
 * plain payload, with the reason.
 */

/** The compressed twins of these filters (only `dt/...` ones have one), to subscribe beside them. */
export function compressedFilters(filters: readonly string[]): string[] {
  return filters.flatMap((filter) => compressedTopic(filter) ?? []);
}

/** The plain topic and JSON payload of a compressed envelope, or undefined when `topic` is not a compressed one. */
export function inflateEnvelope(topic: string, payload: Buffer): { topic: string; payload: Buffer } | undefined {
  const plain = plainTopicOf(topic);
  if (plain === undefined) return undefined;
  if (payload.length > MAX_PAYLOAD_BYTES) throw new InvalidRequestException(`the compressed payload is ${payload.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}`);
  const cap = COMPRESSED_ENVELOPE.maxInflatedBytes;
  try {
    // maxOutputLength stops inflating at the cap, so a deflate bomb costs at most `cap` bytes of memory.
    return { topic: plain, payload: inflateSync(payload, { maxOutputLength: cap }) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InvalidRequestException(`the compressed payload inflates to more than ${cap} bytes (the most a compressed envelope may hold); refused unread`);
    }
    throw new InvalidRequestException(`the compressed payload on ${topic} is not zlib deflate data (${(error as Error).message}): a ${topic.split('/')[0]}/ topic carries a zlib-compressed JSON envelope`);
  }
}
