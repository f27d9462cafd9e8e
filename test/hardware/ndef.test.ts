import { describe, expect, it } from 'vitest';
import {
  decodeNdefMessage,
  encodeNdefMessage,
  encodeNdefTlv,
  encodeTextRecord,
  findNdefTlv,
  NdefError,
  readType2NdefMessage,
  textRecords,
  TNF_WELL_KNOWN,
  type2DataAreaSize,
} from '../../hardware/ndef.ts';

/** NTAG213-like memory: CC on page 3, the given data area bytes from page 4. */
function memory(dataArea: Buffer, ccSize = 0x12): Buffer {
  const mem = Buffer.alloc(180);
  Buffer.from([0xe1, 0x10, ccSize, 0x00]).copy(mem, 12);
  dataArea.copy(mem, 16);
  return mem;
}

function reader(mem: Buffer) {
  const reads: [number, number][] = [];
  const read = async (page: number, length: number) => {
    reads.push([page, length]);
    return mem.subarray(page * 4, page * 4 + length);
  };
  return { read, reads };
}

describe('NDEF text records', () => {
  it('round-trips text records through a message', () => {
    const message = encodeNdefMessage([encodeTextRecord('{"id":"347","audio":"violette.wav"}'), encodeTextRecord('Bonjour', 'fr')]);
    const records = decodeNdefMessage(message);
    expect(records.map((r) => r.tnf)).toEqual([TNF_WELL_KNOWN, TNF_WELL_KNOWN]);
    expect(textRecords(records)).toEqual(['{"id":"347","audio":"violette.wav"}', 'Bonjour']);
    // The first record carries MB (message begin) and not ME (message end).
    expect(message[0]! & 0xc0).toBe(0x80);
  });

  it('decodes UTF-16 text records (big-endian without a byte order mark)', () => {
    const text = Buffer.from('Émile', 'utf16le').swap16();
    const payload = Buffer.concat([Buffer.from([0x80 | 2]), Buffer.from('fr'), text]);
    const message = encodeNdefMessage([{ tnf: TNF_WELL_KNOWN, type: Buffer.from('T'), id: Buffer.alloc(0), payload }]);
    expect(textRecords(decodeNdefMessage(message))).toEqual(['Émile']);
  });

  it('uses a 4-byte payload length for records of 256 bytes or more', () => {
    const long = 'x'.repeat(300);
    const message = encodeNdefMessage([encodeTextRecord(long)]);
    expect(message[0]! & 0x10).toBe(0); // not a short record
    expect(textRecords(decodeNdefMessage(message))).toEqual([long]);
  });

  it('skips records that are not text (a URI record)', () => {
    const uri = { tnf: TNF_WELL_KNOWN, type: Buffer.from('U'), id: Buffer.alloc(0), payload: Buffer.from('\x04example.org') };
    expect(textRecords(decodeNdefMessage(encodeNdefMessage([uri, encodeTextRecord('hi')])))).toEqual(['hi']);
  });

  it('rejects a record that runs past the end of the message', () => {
    const message = encodeNdefMessage([encodeTextRecord('hello')]);
    expect(() => decodeNdefMessage(message.subarray(0, message.length - 2))).toThrow(NdefError);
  });
});

describe('Type 2 tag layout', () => {
  it('reads the data area size from the capability container', () => {
    expect(type2DataAreaSize(Buffer.from([0xe1, 0x10, 0x12, 0x00]))).toBe(144);
    expect(type2DataAreaSize(Buffer.from([0x00, 0x00, 0x00, 0x00]))).toBeNull();
  });

  it('finds the NDEF TLV behind a lock control TLV and NULL padding', () => {
    const data = Buffer.from([0x00, 0x01, 0x03, 0xa0, 0x0c, 0x34, 0x03, 0x05, 1, 2, 3, 4, 5, 0xfe]);
    expect(findNdefTlv(data)).toEqual({ start: 8, length: 5 });
  });

  it('reads a 3-byte TLV length', () => {
    const data = Buffer.from([0x03, 0xff, 0x01, 0x2c]);
    expect(findNdefTlv(data)).toEqual({ start: 4, length: 300 });
  });

  it('asks for more bytes when the TLV header is cut off', () => {
    expect(findNdefTlv(Buffer.from([0x00, 0x00, 0x03]))).toEqual({ needed: 6 });
  });

  it('returns null when a terminator comes before any NDEF TLV', () => {
    expect(findNdefTlv(Buffer.from([0xfe, 0x03, 0x05]))).toBeNull();
  });
});

describe('readType2NdefMessage', () => {
  it('reads a short message in one READ BINARY', async () => {
    const message = encodeNdefMessage([encodeTextRecord('hi')]);
    const { read, reads } = reader(memory(encodeNdefTlv(message)));
    expect(await readType2NdefMessage(read)).toEqual(message);
    expect(reads).toEqual([[3, 16]]);
  });

  it('reads the rest of a longer message in one more read, rounded to whole pages', async () => {
    const message = encodeNdefMessage([encodeTextRecord('{"id":"347","audio":"violette.wav"}')]);
    const { read, reads } = reader(memory(encodeNdefTlv(message)));
    const got = await readType2NdefMessage(read);
    expect(textRecords(decodeNdefMessage(got!))).toEqual(['{"id":"347","audio":"violette.wav"}']);
    expect(reads).toHaveLength(2);
    expect(reads[1]![0]).toBe(7); // pages 3-6 came first, so the data continues at page 7
    expect(reads[1]![1] % 4).toBe(0);
  });

  it('returns null for a tag that is not NDEF-formatted', async () => {
    const mem = Buffer.alloc(180);
    const { read, reads } = reader(mem);
    expect(await readType2NdefMessage(read)).toBeNull();
    expect(reads).toHaveLength(1);
  });

  it('returns an empty message for a formatted, empty tag', async () => {
    const { read } = reader(memory(encodeNdefTlv(Buffer.alloc(0))));
    expect(await readType2NdefMessage(read)).toEqual(Buffer.alloc(0));
  });

  it('rejects a message longer than the data area', async () => {
    const { read } = reader(memory(Buffer.from([0x03, 0xff, 0x03, 0x00]), 0x12));
    await expect(readType2NdefMessage(read)).rejects.toThrow(/runs past the tag's 144-byte data area/);
  });
});
