import { IOT_CORE, type Envelope } from '../hardware/core/contract.ts';

/** AWS IoT Core's payload limit (design.md §3, hardware/core/contract.ts). No envelope may reach it. */
export const IOT_CORE_MAX_PAYLOAD_BYTES = IOT_CORE.maxPayloadBytes;
/** Default envelope budget: under 128 KB whichever way "KB" is read. */
export const DEFAULT_MAX_ENVELOPE_BYTES = 128_000;
/** A record must fit an envelope on its own, with room for the envelope's own fields. */
export const MAX_RECORD_BYTES = 100_000;
/** Widest values the envelope header can carry, so a size estimate is never short. */
const WIDEST_SEQ = Number.MAX_SAFE_INTEGER;
const WIDEST_SENT_AT = 9_999_999_999_999;

/** What grouping needs of a row: no record text, so a scan of the backlog stays cheap. */
export interface RowHeader {
  /** Append order across the whole file; never reused. */
  id: number;
  deviceId: string;
  topic: string;
  seq: number;
  ts: number;
  /** UTF-8 length of the record's JSON. */
  bytes: number;
}

/** A queued row as the outbox stores it: the record stays as its JSON text. */
export interface OutboxRow extends RowHeader {
  messageId: string;
  /** The record's JSON text. */
  record: string;
}

/** A contiguous run of rows chosen to travel together, before its text is read. */
export interface EnvelopePlan {
  /** The first row's id, which becomes the envelope id. */
  id: number;
  /** The last row's id: the envelope covers every row in id..lastId. */
  lastId: number;
  deviceId: string;
  topic: string;
  seq: number;
  count: number;
  recordBytes: number;
}

/**
 * A group of rows that travels as one message. Its id is its first row's id, its messageId and seq
 * are its first row's: all three are fixed the moment the group is stamped, so every retry is the same
 * message.
 */
export interface StampedEnvelope {
  id: number;
  messageId: string;
  deviceId: string;
  seq: number;
  topic: string;
  /** Records in the envelope. */
  count: number;
  /** The records' JSON joined by commas, in row order (SQLite joins them, so no per-record strings). */
  body: string;
  /** Sum of the records' JSON bytes. */
  recordBytes: number;
}

export interface GroupingLimits {
  /** Most records per envelope. */
  maxRecords: number;
  /** Most payload bytes per envelope, header included. */
  maxBytes: number;
  /** Most envelopes to form. */
  maxEnvelopes: number;
}

/** Bytes an envelope for this device needs besides its records and the commas between them. */
export function envelopeOverheadBytes(deviceId: string): number {
  const empty: Envelope = {
    messageId: '00000000-0000-0000-0000-000000000000',
    deviceId,
    seq: WIDEST_SEQ,
    sentAt: WIDEST_SENT_AT,
    records: [],
  };
  return Buffer.byteLength(JSON.stringify(empty));
}

/**
 * Groups rows (in append order) into envelopes: contiguous runs of one device and one topic with
 * consecutive seq (so the cloud can see a gap), at most `maxRecords` records and `maxBytes` bytes.
 * A row already in an envelope (`covered`) ends a run. Runs are contiguous so an envelope is an id
 * range; rows of several devices interleaved travel in smaller envelopes, which is the price.
 */
export function groupRows(rows: readonly (RowHeader & { covered?: boolean })[], limits: GroupingLimits): EnvelopePlan[] {
  const done: EnvelopePlan[] = [];
  let current: { plan: EnvelopePlan; bytes: number } | undefined;
  const overheads = new Map<string, number>();
  for (const row of rows) {
    if (row.covered) {
      if (current) done.push(current.plan);
      current = undefined;
      continue;
    }
    const plan = current?.plan;
    if (
      current &&
      plan &&
      plan.deviceId === row.deviceId &&
      plan.topic === row.topic &&
      plan.seq + plan.count === row.seq &&
      plan.count < limits.maxRecords &&
      current.bytes + 1 + row.bytes <= limits.maxBytes
    ) {
      plan.lastId = row.id;
      plan.count += 1;
      plan.recordBytes += row.bytes;
      current.bytes += 1 + row.bytes;
      continue;
    }
    if (current) done.push(current.plan);
    current = undefined;
    if (done.length >= limits.maxEnvelopes) break;
    let overhead = overheads.get(row.deviceId);
    if (overhead === undefined) {
      overhead = envelopeOverheadBytes(row.deviceId);
      overheads.set(row.deviceId, overhead);
    }
    if (overhead + row.bytes > limits.maxBytes) {
      throw new RangeError(
        `row ${row.id} (${row.bytes} bytes) cannot fit an envelope of ${limits.maxBytes} bytes: raise uplink.maxEnvelopeBytes`,
      );
    }
    current = {
      plan: { id: row.id, lastId: row.id, deviceId: row.deviceId, topic: row.topic, seq: row.seq, count: 1, recordBytes: row.bytes },
      bytes: overhead + row.bytes,
    };
  }
  if (current) done.push(current.plan);
  return done.slice(0, limits.maxEnvelopes);
}

/**
 * The wire payload as a string, built from the stored JSON text so records are never parsed and
 * re-encoded. A string, not a Buffer: it lives on the V8 heap, whose collector frees it promptly,
 * where a Buffer's memory would wait for a collection that external memory barely prompts.
 */
export function encodeEnvelope(envelope: Pick<StampedEnvelope, 'messageId' | 'deviceId' | 'seq' | 'body'>, sentAt: number): string {
  return (
    `{"messageId":${JSON.stringify(envelope.messageId)},"deviceId":${JSON.stringify(envelope.deviceId)},` +
    `"seq":${envelope.seq},"sentAt":${sentAt},"records":[${envelope.body}]}`
  );
}
