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

/** A queued row as the outbox stores it: the record stays as its JSON text. */
export interface OutboxRow {
  /** Append order across the whole file (SQLite rowid). */
  id: number;
  messageId: string;
  deviceId: string;
  seq: number;
  topic: string;
  ts: number;
  /** The record's JSON text. */
  record: string;
  /** UTF-8 length of `record`. */
  bytes: number;
  /** Id of the envelope this row was stamped into, or null while it waits for its first publish. */
  envelope: number | null;
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
  rowIds: number[];
  records: string[];
  firstTs: number;
  lastTs: number;
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
export function groupRows(rows: readonly OutboxRow[], limits: GroupingLimits): StampedEnvelope[] {
  const done: StampedEnvelope[] = [];
  const open = new Map<string, { envelope: StampedEnvelope; lastSeq: number; bytes: number }>();
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
      current.envelope.rowIds.length < limits.maxRecords &&
      current.bytes + 1 + row.bytes <= limits.maxBytes
    ) {
      addRow(current.envelope, row);
      current.lastSeq = row.seq;
      current.bytes += 1 + row.bytes;
      continue;
    }
    if (current) done.push(current.envelope);
    if (overhead + row.bytes > limits.maxBytes) {
      throw new RangeError(
        `row ${row.id} (${row.bytes} bytes) cannot fit an envelope of ${limits.maxBytes} bytes: raise uplink.maxEnvelopeBytes`,
      );
    }
    open.set(key, {
      envelope: startEnvelope(row),
      lastSeq: row.seq,
      bytes: overhead + row.bytes,
    });
  }
  for (const { envelope } of open.values()) done.push(envelope);
  done.sort((a, b) => a.id - b.id);
  return done.slice(0, limits.maxEnvelopes);
}

/** Regroups rows already stamped (read back after a restart) by their envelope id. */
export function regroupStamped(rows: readonly OutboxRow[]): StampedEnvelope[] {
  const byId = new Map<number, StampedEnvelope>();
  for (const row of rows) {
    const id = row.envelope ?? row.id;
    const envelope = byId.get(id);
    if (envelope) {
      addRow(envelope, row);
      continue;
    }
    if (id !== row.id) {
      // The first row carries the envelope's messageId; it is deleted only with the rest of the group.
      throw new Error(`outbox row ${row.id} is stamped into envelope ${id}, whose first row is missing`);
    }
    byId.set(id, startEnvelope(row));
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** An envelope's identity is its first row's: id, messageId and seq. */
function startEnvelope(row: OutboxRow): StampedEnvelope {
  return {
    id: row.id,
    messageId: row.messageId,
    deviceId: row.deviceId,
    seq: row.seq,
    topic: row.topic,
    rowIds: [row.id],
    records: [row.record],
    firstTs: row.ts,
    lastTs: row.ts,
    recordBytes: row.bytes,
  };
}

function addRow(envelope: StampedEnvelope, row: OutboxRow): void {
  envelope.rowIds.push(row.id);
  envelope.records.push(row.record);
  envelope.lastTs = row.ts;
  envelope.recordBytes += row.bytes;
}

/** The wire payload, built from the stored JSON text so records are never parsed and re-encoded. */
export function encodeEnvelope(envelope: StampedEnvelope, sentAt: number): Buffer {
  const text =
    `{"messageId":${JSON.stringify(envelope.messageId)},"deviceId":${JSON.stringify(envelope.deviceId)},` +
    `"seq":${envelope.seq},"sentAt":${sentAt},"records":[${envelope.records.join(',')}]}`;
  return Buffer.from(text, 'utf8');
}
