import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { z } from 'zod';
import {
  deviceStatus, envelope, IOT_CORE, parseEnvelope, parseTopic, recordProblem, tapRecord, topics, WEATHER_FIELD_TABLE, WEATHER_FIELDS, weatherRecord,
  type WeatherRecord,
} from '../../../hardware/core/contract.ts';
import { parseSettings } from '../../../hardware/core/config-file.ts';
import { buildStatus } from '../../../gateway/status.ts';
import type { OutboxStats } from '../../../gateway/outbox.ts';
import { DEMO_TAGS } from '../../../device/museum-demo.ts';
import { hardwareSettings, stationSettings } from '../../../device/settings.ts';
import { openStationHardware, type StationHardware } from '../../../device/station-hardware.ts';
import { WeatherStation } from '../../../device/weather-station.ts';
import { weatherReading } from '../../bench/fixtures/weather-reading.ts';
import { weatherDay } from '../../cloud/dashboard/weather-records.ts';
import { MemorySink } from '../../fixtures/record-sink.ts';

const log = pino({ level: 'silent' });
const settingsSchema = z.object({ station: stationSettings.prefault({}), hardware: hardwareSettings.prefault({}) });

let open: { hardware: StationHardware; station: WeatherStation } | undefined;
afterEach(async () => {
  await open?.station.stop();
  await open?.hardware.close();
  open = undefined;
});

async function virtualStation(build: 'weather-hat' | 'bme280') {
  const settings = parseSettings(settingsSchema, { station: { id: `virtual-${build}`, build }, hardware: { mode: 'virtual', windVaneSampleInterval: '50ms' } }, 'test');
  const hardware = await openStationHardware({ ...settings, log });
  const sink = new MemorySink();
  const station = new WeatherStation({ stationId: settings.station.id, intervalMs: 3_600_000, sensors: hardware.sensors, sink, log });
  await station.start();
  open = { hardware, station };
  return { hardware, station, sink };
}

const good: WeatherRecord = weatherReading(Date.UTC(2026, 11, 6, 12));

describe('wire contract: weather records', () => {
  it.each(['weather-hat', 'bme280'] as const)('accepts what the virtual %s station sends, healthy and with a faulty sensor', async (build) => {
    const { station, hardware, sink } = await virtualStation(build);
    await new Promise((r) => setTimeout(r, 200));
    await station.sample();
    hardware.virtual!.bus.injectFault(0x77, 'no-ack');
    hardware.virtual!.bus.injectFault(0x76, 'no-ack');
    const faulty = await station.sample();
    expect(Object.values(faulty.sensors).some((s) => s !== 'ok')).toBe(true);
    expect(sink.records).toHaveLength(2);
    for (const { record, topic, deviceId } of sink.records) {
      expect(weatherRecord.parse(record)).toEqual(record);
      expect(parseTopic(topic)).toEqual({ app: 'weather', thing: deviceId, type: 'reading' });
      // The sampler fills exactly the contract's fields, no more and no fewer.
      expect(Object.keys(record).sort()).toEqual(['ts', ...WEATHER_FIELDS, 'sensors'].sort());
    }
  });

  it('accepts the fixtures the benches and the weather page tests use', () => {
    for (const r of [good, ...weatherDay({ end: Date.UTC(2026, 0, 15), low: -8, high: 3, gust: { kmh: 95, minutesAgo: 30 }, downpour: { mm: 30, minutesAgo: 90 } })]) {
      expect(weatherRecord.safeParse(r).success).toBe(true);
    }
  });

  it('allows null for a missing sensor, never undefined or NaN in a full record', () => {
    expect(weatherRecord.safeParse({ ...good, air_quality: null, sensors: { ...good.sensors, air_quality: 'missing' } }).success).toBe(true);
    const { air_quality: _drop, ...withoutAirQuality } = good;
    expect(weatherRecord.safeParse(withoutAirQuality).success).toBe(false);
    expect(weatherRecord.safeParse({ ...good, humidity: Number.NaN }).success).toBe(false);
  });

  it.each([
    ['a string temperature', { ambient_temperature: '12.3' }, /ambient_temperature is a number in °C/],
    ['kelvin for °C', { ambient_temperature: 285.15 }, /above 125 °C/],
    ['Pa for hPa', { air_pressure: 101_325 }, /air_pressure above 1100 hPa/],
    ['kPa for hPa', { air_pressure: 101.3 }, /air_pressure below 300 hPa/],
    ['humidity over 100 %', { humidity: 104 }, /above 100 %RH/],
    ['a negative wind speed', { wind_speed: -1 }, /below 0 km\/h/],
    ['a bearing past 360°', { wind_direction: 400 }, /above 360 °/],
    ['negative rain', { rainfall: -0.2 }, /below 0 mm/],
    ['an unknown status string', { sensors: { bme280: 'broken' } }, /"ok", "missing" or "fault: <reason>"/],
    ['a fault with no reason', { sensors: { bme280: 'fault: ' } }, /"ok", "missing" or "fault: <reason>"/],
    ['a fractional ts', { ts: 1.5 }, /whole number/],
    ['a ts in text', { ts: '2026-12-06' }, /^ts is epoch milliseconds \(a number\)/],
  ])('refuses %s, saying which field and why', (_what, change, reason) => {
    const problem = recordProblem('reading', { ...good, ...change });
    expect(problem).toMatch(reason);
    expect(weatherRecord.safeParse({ ...good, ...change }).success).toBe(false);
  });

  it('checks present fields only at the cloud: a partial record or an extra field passes, a missing ts does not', () => {
    expect(recordProblem('reading', { ts: 1, ambient_temperature: 3 })).toBeUndefined();
    expect(recordProblem('reading', { ...good, soil_moisture: 40 })).toBeUndefined();
    expect(recordProblem('reading', { ambient_temperature: 3 })).toMatch(/ts/);
    expect(recordProblem('reading', { ts: 1, ambient_temperature: 300 })).toMatch(/above 125/);
  });

  it('gives every field a unit, a label and a range that holds the record values of design.md §3', () => {
    expect(WEATHER_FIELDS).toEqual([
      'ambient_temperature', 'ground_temperature', 'air_quality', 'air_pressure', 'humidity', 'wind_direction', 'wind_speed', 'wind_gust_speed', 'rainfall',
    ]);
    expect(WEATHER_FIELD_TABLE.ambient_temperature).toMatchObject({ unit: '°C', label: 'Air temperature' });
    expect(WEATHER_FIELD_TABLE.humidity.unit).toBe('%RH');
    // Earth's records must fit: -89.2 °C, 1084.8 hPa, a 408 km/h gust, 1825 mm in a day.
    for (const [field, value] of [['ambient_temperature', -89.2], ['air_pressure', 1084.8], ['wind_gust_speed', 408], ['rainfall', 1825]] as const) {
      expect(recordProblem('reading', { ...good, [field]: value }), field).toBeUndefined();
    }
  });
});

describe('wire contract: tap records', () => {
  const tap = { ts: Date.UTC(2026, 11, 6, 9), uid: DEMO_TAGS[0]!.uid, object_id: 'fossil', event: 'started', play_duration_ms: null };

  it('accepts a record for every demo tag and every event', () => {
    for (const spec of DEMO_TAGS) {
      for (const event of ['started', 'stopped', 'finished', 'unknown'] as const) {
        expect(tapRecord.safeParse({ ...tap, uid: spec.uid, event, play_duration_ms: event === 'started' ? null : 4000 }).success).toBe(true);
      }
    }
  });

  it.each([
    ['an unknown event', { event: 'paused' }],
    ['a uid that is not hex', { uid: 'zz:11' }],
    ['a negative duration', { play_duration_ms: -5 }],
    ['a numeric object id', { object_id: 347 }],
  ])('refuses %s', (_what, change) => {
    expect(recordProblem('tap', { ...tap, ...change })).toBeDefined();
  });

  it('gives other topic types the generic rule only: a numeric ts', () => {
    expect(recordProblem('telemetry', { ts: 5, anything: 'x' })).toBeUndefined();
    expect(recordProblem('telemetry', { anything: 'x' })).toMatch(/ts is a number/);
  });
});

describe('wire contract: topics and envelopes', () => {
  it('builds and parses dt/<app>/<thing>/<type> topics within IoT Core limits', () => {
    expect(parseTopic(topics.weatherReading('north-field'))).toEqual({ app: 'weather', thing: 'north-field', type: 'reading' });
    expect(parseTopic(topics.museumTap('box_7'))).toEqual({ app: 'museum', thing: 'box_7', type: 'tap' });
    expect(parseTopic(topics.status('weather', 's1'))).toEqual({ app: 'weather', thing: 's1', type: 'status' });
    expect(parseTopic('dt/weather/s1')).toBeUndefined();
    expect(parseTopic('dt/weather/s1/reading/extra')).toBeUndefined();
    expect(parseTopic('xx/weather/s1/reading')).toBeUndefined();
    expect(Buffer.byteLength(topics.weatherReading('x'.repeat(64)))).toBeLessThanOrEqual(IOT_CORE.maxTopicBytes);
  });

  it('parses an envelope and names the wrong field of a bad one', () => {
    const ok = { messageId: 'm-1', deviceId: 's1', seq: 3, sentAt: 10, records: [good] };
    expect(envelope.parse(ok)).toEqual(ok);
    expect(parseEnvelope({ ...ok, deviceId: 'a/b' })).toEqual({ problem: expect.stringMatching(/deviceId must be a thing name/) });
    expect(parseEnvelope({ ...ok, seq: 'one' })).toEqual({ problem: expect.stringMatching(/seq must be a whole number/) });
    expect(parseEnvelope({ ...ok, messageId: 'm'.repeat(123) })).toEqual({ problem: expect.stringMatching(/messageId must be a string of 1-122/) });
    expect(parseEnvelope({ ...ok, records: {} })).toEqual({ problem: expect.stringMatching(/records must be an array/) });
  });
});

describe('wire contract: status payload', () => {
  const stats: OutboxStats = {
    depth: 3, bytes: 900, oldestAgeMs: 60_000, oldestTs: 1, stampedRows: 0, droppedRecords: 0, sentRecords: 10, sentEnvelopes: 2,
    retriedEnvelopes: 1, refusedBatches: 0, capBytes: 1024, capPolicy: 'drop-oldest',
  };
  const parts = { thing: 'north-field', state: 'online', since: 5, client: 'mqtt', protocol: 'MQTT 5', broker: 'mqtt://127.0.0.1:1883/', lastError: null } as const;

  it('accepts what the uplink publishes, and refuses an unknown connection state', () => {
    const status = buildStatus(parts, stats, 10);
    expect(deviceStatus.parse(status)).toEqual(status);
    expect(deviceStatus.safeParse({ ...status, state: 'sleeping' }).success).toBe(false);
    expect(deviceStatus.safeParse({ ...status, depth: -1 }).success).toBe(false);
  });
});
