import type { Envelope } from '../device/contract.ts';

/** AWS IoT Core's payload limit (design.md §3). No envelope may reach it. */
export const IOT_CORE_MAX_PAYLOAD_BYTES = 128 * 1024;
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
  /** Id of the envelope this row was stamped into, or null while it waits for its first publish. */
  envelope: number | null;
}

/** A group of rows chosen to travel together, before its text is read. */
export interface EnvelopePlan {
  /** The first row's id, which becomes the envelope id. */
  id: number;
  deviceId: string;
  topic: string;
  seq: number;
  rowIds: number[];
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
 * Groups rows (in append order) into envelopes: one device and one topic each, consecutive seq (so
 * the cloud can see a gap), at most `maxRecords` records and `maxBytes` bytes. Returns the first
 * `maxEnvelopes` groups in the order of their first row.
 */
export function groupRows(rows: readonly RowHeader[], limits: GroupingLimits): EnvelopePlan[] {
  const done: EnvelopePlan[] = [];
  const open = new Map<string, { plan: EnvelopePlan; lastSeq: number; bytes: number }>();
  const overheads = new Map<string, number>();
  for (const row of rows) {
    const key = `${row.deviceId}\u0000${row.topic}`;
    let overhead = overheads.get(row.deviceId);
    if (overhead === undefined) {
      overhead = envelopeOverheadBytes(row.deviceId);
      overheads.set(row.deviceId, overhead);
    }
    const current = open.get(key);
    if (
      current &&
      current.lastSeq + 1 === row.seq &&
      current.plan.rowIds.length < limits.maxRecords &&
      current.bytes + 1 + row.bytes <= limits.maxBytes
    ) {
      current.plan.rowIds.push(row.id);
      current.plan.recordBytes += row.bytes;
      current.lastSeq = row.seq;
      current.bytes += 1 + row.bytes;
      continue;
    }
    if (current) done.push(current.plan);
    if (overhead + row.bytes > limits.maxBytes) {
      throw new RangeError(
        `row ${row.id} (${row.bytes} bytes) cannot fit an envelope of ${limits.maxBytes} bytes: raise uplink.maxEnvelopeBytes`,
      );
    }
    const plan = { id: row.id, deviceId: row.deviceId, topic: row.topic, seq: row.seq, rowIds: [row.id], recordBytes: row.bytes };
    open.set(key, { plan, lastSeq: row.seq, bytes: overhead + row.bytes });
  }
  for (const { plan } of open.values()) done.push(plan);
  done.sort((a, b) => a.id - b.id);
  return done.slice(0, limits.maxEnvelopes);
}

/** The wire payload, built from the stored JSON text so records are never parsed and re-encoded. */
export function encodeEnvelope(envelope: Pick<StampedEnvelope, 'messageId' | 'deviceId' | 'seq' | 'body'>, sentAt: number): Buffer {
  const text =
    `{"messageId":${JSON.stringify(envelope.messageId)},"deviceId":${JSON.stringify(envelope.deviceId)},` +
    `"seq":${envelope.seq},"sentAt":${sentAt},"records":[${envelope.body}]}`;
  return Buffer.from(text, 'utf8');
}
