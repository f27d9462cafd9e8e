import { describe, expect, it } from 'vitest';
import { InvalidRequestException } from '../../../cloud/engine/errors.ts';
import { parseRuleSql, payloadMessages, topicMatches } from '../../../cloud/ingest/topic-rule.ts';

const envelope = (records: unknown[], extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ messageId: 'abc', deviceId: 'station_1', seq: 7, sentAt: 1000, records, ...extra }));
let counter = 0;
const newId = () => `id${++counter}`;

describe('topic rules', () => {
  it('parses SELECT * FROM with an optional WHERE', () => {
    expect(parseRuleSql("SELECT * FROM 'dt/weather/+/reading'").topicFilter).toBe('dt/weather/+/reading');
    const rule = parseRuleSql("select * from 'dt/#' where temperature > 30");
    expect(rule.topicFilter).toBe('dt/#');
    expect(rule.where!({ temperature: 31 })).toBe(true);
    expect(rule.where!({ temperature: 29 })).toBe(false);
  });

  it('refuses other SQL and bad topic filters', () => {
    for (const sql of ["SELECT a FROM 'x'", 'SELECT * FROM x', "SELECT * FROM 'a/#/b'", "SELECT * FROM 'a/b+'", "SELECT * FROM ''", "SELECT * FROM 'a' WHERE >"]) {
      expect(() => parseRuleSql(sql), sql).toThrow(InvalidRequestException);
    }
  });

  it('matches MQTT wildcards', () => {
    expect(topicMatches('dt/weather/+/reading', 'dt/weather/s1/reading')).toBe(true);
    expect(topicMatches('dt/weather/+/reading', 'dt/weather/s1/status')).toBe(false);
    expect(topicMatches('dt/weather/+/reading', 'dt/weather/s1/reading/x')).toBe(false);
    expect(topicMatches('dt/#', 'dt/weather/s1/reading')).toBe(true);
    expect(topicMatches('dt/weather/#', 'dt/weather')).toBe(true);
    expect(topicMatches('dt/+', 'dt')).toBe(false);
  });

  it('turns an envelope into one message per record with stable ids and the device id', () => {
    const out = payloadMessages(envelope([{ ts: 1, t: 2 }, { ts: 2, t: 3 }]), true, newId);
    expect(out.messages).toEqual([
      { messageId: 'abc-0', value: { ts: 1, t: 2, device_id: 'station_1' } },
      { messageId: 'abc-1', value: { ts: 2, t: 3, device_id: 'station_1' } },
    ]);
    expect(payloadMessages(envelope([{ ts: 1, t: 2 }, { ts: 2, t: 3 }]), true, newId).messages.map((m) => m.messageId)).toEqual(['abc-0', 'abc-1']);
  });

  it('without batchMode keeps the envelope as one message under its messageId', () => {
    const out = payloadMessages(envelope([{ ts: 1 }]), false, newId);
    expect(out.messages).toHaveLength(1);
    expect(out.messages[0]!.messageId).toBe('abc');
  });

  it('keeps good records and reports the bad ones', () => {
    const out = payloadMessages(envelope([{ ts: 1 }, 'nope', { 'bad-name': 1 }]), true, newId);
    expect(out.messages.map((m) => m.messageId)).toEqual(['abc-0']);
    expect(out.rejected).toHaveLength(2);
  });

  it('takes plain JSON objects and arrays too, giving them fresh ids', () => {
    expect(payloadMessages(Buffer.from('{"t":1}'), true, newId).messages).toHaveLength(1);
    expect(payloadMessages(Buffer.from('[{"t":1},{"t":2}]'), true, newId).messages).toHaveLength(2);
  });

  const bad: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['not JSON', Buffer.from('{nope')],
    ['binary', Buffer.from([0, 1, 2, 255, 254])],
    ['a number', Buffer.from('42')],
    ['too big', Buffer.from(JSON.stringify({ a: 'x'.repeat(130 * 1024) }))],
    ['an envelope without deviceId', Buffer.from(JSON.stringify({ messageId: 'a', records: [] }))],
    ['a deviceId with a wildcard', envelope([{ ts: 1 }], { deviceId: 'a/+' })],
    ['records that is not an array', envelope([], { records: {} })],
    ['deep nesting', Buffer.from(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`)],
    ['only bad records', envelope([1, 2])],
  ];
  for (const [what, payload] of bad) {
    it(`rejects ${what} with a reason`, () => expect(() => payloadMessages(payload, true, newId)).toThrow(InvalidRequestException));
  }
});
