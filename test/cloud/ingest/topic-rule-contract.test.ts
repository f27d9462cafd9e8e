import { describe, expect, it } from 'vitest';
import { InvalidRequestException } from '../../../cloud/engine/errors.ts';
import { DeviceMismatchError, payloadMessages } from '../../../cloud/ingest/topic-rule.ts';
import { weatherReading } from '../../bench/fixtures/weather-reading.ts';

const newId = () => 'fresh';
const envelope = (deviceId: string, records: unknown[]) => Buffer.from(JSON.stringify({ messageId: 'm1', deviceId, seq: 1, sentAt: 1, records }));

describe('payloadMessages: the wire contract on a dt/<app>/<thing>/<type> topic', () => {
  it('refuses an envelope whose deviceId is not the topic thing, with a DeviceMismatchError naming both', () => {
    const call = () => payloadMessages(envelope('station_a', [weatherReading(1)]), true, newId, 'dt/weather/station_b/reading');
    expect(call).toThrow(DeviceMismatchError);
    expect(call).toThrow(InvalidRequestException);
    expect(call).toThrow(/deviceId "station_a" is not the topic's thing "station_b"/);
  });

  it('compares even when the topic thing is no valid thing name', () => {
    expect(() => payloadMessages(envelope('station_a', [weatherReading(1)]), true, newId, 'dt/weather/a b/reading')).toThrow(DeviceMismatchError);
  });

  it('does not compare on topics of another form, whose levels name no thing', () => {
    const out = payloadMessages(envelope('station_a', [{ ts: 1 }]), true, newId, 'legacy/station_b');
    expect(out.messages.map((m) => m.value)).toEqual([{ ts: 1, device_id: 'station_a' }]);
  });

  it('refuses each bad weather record alone with its index and reason, and keeps the others', () => {
    const out = payloadMessages(envelope('s1', [weatherReading(1), { ...weatherReading(2), air_pressure: 101_325 }, 'text', weatherReading(3)]), true, newId, 'dt/weather/s1/reading');
    expect(out.messages.map((m) => m.messageId)).toEqual(['m1-0', 'm1-3']);
    expect(out.rejected).toEqual(['record 1: air_pressure above 1100 hPa is not a real reading', 'record 2 is not a JSON object']);
  });

  it('refuses a record with a bad attribute name alone, also without batchMode', () => {
    const out = payloadMessages(envelope('s1', [{ ts: 1, ok: 1 }, { ts: 2, 'bad-name': 1 }]), false, newId, 'dt/weather/s1/status_report');
    expect(out.rejected).toEqual([expect.stringMatching(/^record 1: attribute name "bad-name" is not valid/)]);
    expect(out.messages).toEqual([{ messageId: 'm1', value: { messageId: 'm1', deviceId: 's1', seq: 1, sentAt: 1, records: [{ ts: 1, ok: 1 }] } }]);
  });

  it('refuses the whole envelope when none of its records is good, with the first reason', () => {
    expect(() => payloadMessages(envelope('s1', [{ ts: 1, humidity: -3 }]), true, newId, 'dt/weather/s1/reading')).toThrow(/record 0: humidity below 0 %RH/);
  });

  it('applies the generic rule to other types: a record needs a numeric ts', () => {
    expect(() => payloadMessages(envelope('s1', [{ value: 1 }]), true, newId, 'dt/weather/s1/telemetry')).toThrow(/record 0: ts is a number/);
  });
});
