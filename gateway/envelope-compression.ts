import { deflateSync } from 'node:zlib';
import { compressedTopic } from '../hardware/core/contract.ts';
import { encodeEnvelope } from './envelope.ts';
import type { StampedEnvelope } from './envelope.ts';

/**
 * The station's side of compressed envelopes (hardware/core/contract.ts COMPRESSED_ENVELOPE): an
 * envelope grouped up to the inflate cap, deflated onto the `dtz/...` twin of its topic. Weather
 * envelopes deflate about 13 to 1, so the cap's 1 MiB travels in about 80 KB; one that still does
 * not fit `maxBytes` (records that hardly compress) is split in halves until each part fits. A part
 * that starts at record k of the envelope carries messageId `<messageId>+<k>` and seq `seq + k`:
 * deflate is deterministic, so a retry splits the same way and the cloud drops a repeat by its ids.
 */

export interface WireMessage {
  topic: string;
  payload: Buffer;
}

type Part = Pick<StampedEnvelope, 'messageId' | 'deviceId' | 'seq' | 'topic' | 'body'>;

/** Deflate level: 6 (zlib's default) is within 10 % of 9's size here at a third of its CPU on a Pi. */
const LEVEL = 6;

/** The MQTT messages that carry this envelope compressed, each at most `maxBytes`. */
export function compressedMessages(envelope: Part, sentAt: number, maxBytes: number): WireMessage[] {
  const topic = compressedTopic(envelope.topic);
  if (topic === undefined) throw new RangeError(`topic ${envelope.topic} has no compressed twin: uplink.compression needs dt/... topics`);
  const payload = deflateSync(encodeEnvelope(envelope, sentAt), { level: LEVEL });
  if (payload.length <= maxBytes) return [{ topic, payload }];
  const records = JSON.parse(`[${envelope.body}]`) as unknown[];
  const half = Math.ceil(records.length / 2);
  return [...parts(envelope, topic, records.slice(0, half), 0, sentAt, maxBytes), ...parts(envelope, topic, records.slice(half), half, sentAt, maxBytes)];
}

/** `records` are the envelope's from index `offset` on: one message if they fit, else halves. */
function parts(envelope: Part, topic: string, records: readonly unknown[], offset: number, sentAt: number, maxBytes: number): WireMessage[] {
  const piece = {
    ...envelope,
    messageId: offset === 0 ? envelope.messageId : `${envelope.messageId}+${offset}`,
    seq: envelope.seq + offset,
    body: records.map((record) => JSON.stringify(record)).join(','),
  };
  const payload = deflateSync(encodeEnvelope(piece, sentAt), { level: LEVEL });
  if (payload.length <= maxBytes) return [{ topic, payload }];
  // A record is at most MAX_RECORD_BYTES (100 KB), so one alone always fits IoT Core's 128 KB, deflated or not.
  if (records.length < 2) throw new RangeError(`a record of ${envelope.deviceId} deflates to ${payload.length} bytes, over ${maxBytes}`);
  const half = Math.ceil(records.length / 2);
  return [...parts(envelope, topic, records.slice(0, half), offset, sentAt, maxBytes), ...parts(envelope, topic, records.slice(half), offset + half, sentAt, maxBytes)];
}
