/**
 * NDEF as NFC Forum Type 2 tags (NTAG213/215/216, MIFARE Ultralight) store it: a capability
 * container on page 3, then TLV blocks from page 4, one of which (type 0x03) holds the NDEF message.
 * Decoding is lenient where tags in the wild are sloppy (trailing garbage after the terminator) and
 * strict where a wrong guess would mislead (a length running past the data area is an error).
 */

/** Bytes per Type 2 page; READ BINARY addresses pages. */
export const TYPE2_PAGE_SIZE = 4;
/** Capability container page; its first byte is the NDEF magic number. */
export const TYPE2_CC_PAGE = 3;
/** First page of the data area, where the TLVs start. */
export const TYPE2_DATA_PAGE = 4;
const CC_MAGIC = 0xe1;
const TLV_NULL = 0x00;
const TLV_NDEF = 0x03;
const TLV_TERMINATOR = 0xfe;
/** A TLV length byte of 0xFF announces a 2-byte length. */
const TLV_LONG_LENGTH = 0xff;

const FLAG_MB = 0x80;
const FLAG_ME = 0x40;
const FLAG_CF = 0x20;
const FLAG_SR = 0x10;
const FLAG_IL = 0x08;
const TNF_MASK = 0x07;
export const TNF_WELL_KNOWN = 0x01;
/** Text record status byte: bit 7 set means UTF-16, bits 0-5 the language code length. */
const TEXT_UTF16 = 0x80;
const TEXT_LANG_LENGTH_MASK = 0x3f;

export class NdefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NdefError';
  }
}

export interface NdefRecord {
  tnf: number;
  type: Buffer;
  id: Buffer;
  payload: Buffer;
}

/** Data area size in bytes from a capability container, or null when the tag is not NDEF-formatted. */
export function type2DataAreaSize(cc: Buffer): number | null {
  if (cc.length < TYPE2_PAGE_SIZE || cc[0] !== CC_MAGIC) return null;
  return cc[2]! * 8;
}

/**
 * Finds the NDEF TLV in the data area (bytes from page 4 on). Returns where its value starts and how
 * long it is, or null when the area holds no NDEF message. `needed` tells the caller how many bytes of
 * the data area it must have read to decide, so a reader can fetch more and call again.
 */
export function findNdefTlv(data: Buffer): { start: number; length: number } | { needed: number } | null {
  let at = 0;
  while (at < data.length) {
    const tag = data[at]!;
    if (tag === TLV_NULL) {
      at += 1;
      continue;
    }
    if (tag === TLV_TERMINATOR) return null;
    if (at + 1 >= data.length) return { needed: at + 4 };
    let length = data[at + 1]!;
    let header = 2;
    if (length === TLV_LONG_LENGTH) {
      if (at + 3 >= data.length) return { needed: at + 4 };
      length = data.readUInt16BE(at + 2);
      header = 4;
    }
    if (tag === TLV_NDEF) return { start: at + header, length };
    at += header + length;
  }
  return { needed: at + 4 };
}

/** READ BINARY on a Type 2 tag returns at most 4 pages. */
const TYPE2_READ_BYTES = 16;

/**
 * Reads the NDEF message of a Type 2 tag with as few READ BINARY commands as the message allows:
 * one for the capability container and the first TLV bytes, one more for the rest of a longer
 * message. Returns null when the tag is not NDEF-formatted or holds no message.
 */
export async function readType2NdefMessage(read: (page: number, length: number) => Promise<Buffer>): Promise<Buffer | null> {
  const head = await read(TYPE2_CC_PAGE, TYPE2_READ_BYTES);
  const size = type2DataAreaSize(head.subarray(0, TYPE2_PAGE_SIZE));
  if (size === null) return null;
  let data = head.subarray(TYPE2_PAGE_SIZE);
  for (;;) {
    const found = findNdefTlv(data);
    if (found === null) return null;
    const nextPage = TYPE2_DATA_PAGE + data.length / TYPE2_PAGE_SIZE;
    if ('needed' in found) {
      if (found.needed > size) return null;
      data = Buffer.concat([data, await read(nextPage, TYPE2_READ_BYTES)]);
      continue;
    }
    const end = found.start + found.length;
    if (end > size) throw new NdefError(`the NDEF message (${found.length} bytes) runs past the tag's ${size}-byte data area`);
    if (end > data.length) {
      const missing = Math.ceil((end - data.length) / TYPE2_PAGE_SIZE) * TYPE2_PAGE_SIZE;
      data = Buffer.concat([data, await read(nextPage, missing)]);
    }
    return data.subarray(found.start, end);
  }
}

/** Decodes an NDEF message into its records; chunked records are joined. */
export function decodeNdefMessage(message: Buffer): NdefRecord[] {
  const records: NdefRecord[] = [];
  let at = 0;
  let chunk: NdefRecord | null = null;
  while (at < message.length) {
    const flags = message[at]!;
    const typeLength = byteAt(message, at + 1);
    const short = (flags & FLAG_SR) !== 0;
    const payloadLength = short ? byteAt(message, at + 2) : readLength(message, at + 2);
    let cursor = at + (short ? 3 : 6);
    const idLength = flags & FLAG_IL ? byteAt(message, cursor++) : 0;
    const end = cursor + typeLength + idLength + payloadLength;
    if (end > message.length) throw new NdefError(`record at byte ${at} runs past the end of the message`);
    const type = message.subarray(cursor, cursor + typeLength);
    const id = message.subarray(cursor + typeLength, cursor + typeLength + idLength);
    const payload = message.subarray(cursor + typeLength + idLength, end);
    if (chunk) {
      chunk.payload = Buffer.concat([chunk.payload, payload]);
      if (!(flags & FLAG_CF)) {
        records.push(chunk);
        chunk = null;
      }
    } else if (flags & FLAG_CF) {
      chunk = { tnf: flags & TNF_MASK, type: Buffer.from(type), id: Buffer.from(id), payload: Buffer.from(payload) };
    } else {
      records.push({ tnf: flags & TNF_MASK, type, id, payload });
    }
    at = end;
    if (flags & FLAG_ME) break;
  }
  return records;
}

/** The text of every NFC Forum text record ("T"), in order. */
export function textRecords(records: readonly NdefRecord[]): string[] {
  const texts: string[] = [];
  for (const record of records) {
    if (record.tnf !== TNF_WELL_KNOWN || record.type.toString('latin1') !== 'T' || record.payload.length === 0) continue;
    const status = record.payload[0]!;
    const text = record.payload.subarray(1 + (status & TEXT_LANG_LENGTH_MASK));
    texts.push(status & TEXT_UTF16 ? decodeUtf16(text) : text.toString('utf8'));
  }
  return texts;
}

/** A UTF-8 text record, as phone apps such as NFC Tools write them. */
export function encodeTextRecord(text: string, language = 'en'): NdefRecord {
  const lang = Buffer.from(language, 'ascii');
  return {
    tnf: TNF_WELL_KNOWN,
    type: Buffer.from('T', 'latin1'),
    id: Buffer.alloc(0),
    payload: Buffer.concat([Buffer.from([lang.length & TEXT_LANG_LENGTH_MASK]), lang, Buffer.from(text, 'utf8')]),
  };
}

export function encodeNdefMessage(records: readonly NdefRecord[]): Buffer {
  const parts = records.map((record, index) => {
    const short = record.payload.length < 256;
    let flags = record.tnf & TNF_MASK;
    if (index === 0) flags |= FLAG_MB;
    if (index === records.length - 1) flags |= FLAG_ME;
    if (short) flags |= FLAG_SR;
    if (record.id.length > 0) flags |= FLAG_IL;
    const length = short ? Buffer.from([record.payload.length]) : Buffer.alloc(4);
    if (!short) length.writeUInt32BE(record.payload.length);
    const idLength = record.id.length > 0 ? Buffer.from([record.id.length]) : Buffer.alloc(0);
    return Buffer.concat([Buffer.from([flags, record.type.length]), length, idLength, record.type, record.id, record.payload]);
  });
  return Buffer.concat(parts);
}

/** Wraps a message in an NDEF TLV and a terminator, as written from page 4 of a Type 2 tag. */
export function encodeNdefTlv(message: Buffer): Buffer {
  const length =
    message.length < TLV_LONG_LENGTH
      ? Buffer.from([message.length])
      : Buffer.from([TLV_LONG_LENGTH, message.length >> 8, message.length & 0xff]);
  return Buffer.concat([Buffer.from([TLV_NDEF]), length, message, Buffer.from([TLV_TERMINATOR])]);
}

function byteAt(buffer: Buffer, at: number): number {
  const value = buffer[at];
  if (value === undefined) throw new NdefError(`record header cut off at byte ${at}`);
  return value;
}

function readLength(buffer: Buffer, at: number): number {
  if (at + 4 > buffer.length) throw new NdefError(`record length cut off at byte ${at}`);
  return buffer.readUInt32BE(at);
}

function decodeUtf16(bytes: Buffer): string {
  // Without a byte order mark the NFC Forum text RTD says big-endian.
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  const start = bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff ? 2 : 0;
  const swapped = Buffer.from(bytes.subarray(start, start + ((bytes.length - start) & ~1)));
  swapped.swap16();
  return swapped.toString('utf16le');
}
