// Compressed envelopes (uplink.compression: deflate) beside plain ones, in the same run:
// 1. bytes per record on the wire for a week of 5-minute readings (2016 records from the virtual
//    weather model), envelopes as the iot-core profile forms them (under 128 KB, up to 10,000 records);
// 2. the time to drain a week's backlog at one record a second (604,800 records, the figure of
//    week-outage.bench.ts) to mosquitto under the iot-core profile (100 publishes/s, 100 in flight),
//    plain then compressed, each from a copy of the same filled outbox, timed until it is empty.
// Run: npm run bench -- compressed-drain   (WEEK_RECORDS=50000 for a quick try)
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { weekOfRecords } from '../../bin/demo-backfill.ts';
import { compressedMessages } from '../../gateway/envelope-compression.ts';
import { encodeEnvelope, groupRows } from '../../gateway/envelope.ts';
import { MqttConnector } from '../../gateway/mqtt-uplink.ts';
import { Outbox } from '../../gateway/outbox.ts';
import { uplinkSettings } from '../../gateway/settings.ts';
import { UplinkService } from '../../gateway/uplink-service.ts';
import { COMPRESSED_ENVELOPE, topics } from '../../hardware/core/contract.ts';
import { VirtualWeather } from '../../hardware/virtual-weather.ts';
import { weatherReading } from './fixtures/weather-reading.ts';
import { Mosquitto } from '../gateway/helpers/mosquitto.ts';
import { tempDir } from '../gateway/helpers/gateway-harness.ts';

const WEEK = Number(process.env.WEEK_RECORDS ?? 604_800);
const FILL_BATCH = 2_000;
const START = Date.UTC(2026, 2, 1);
const log = pino({ level: 'silent' });
const iotCore = (url: string, compression: 'off' | 'deflate') => uplinkSettings.parse({ url, profile: 'iot-core', maxRecordsPerEnvelope: 10_000, compression });

/** Wire bytes of these records sent plain and compressed, grouped as the uplink groups them. */
function wireBytes(records: { ts: number }[]): { plain: number; compressed: number; plainEnvelopes: number; compressedMessages: number } {
  const settings = iotCore('mqtt://127.0.0.1:1', 'off');
  const texts = records.map((record) => JSON.stringify(record));
  const rows = texts.map((text, i) => ({ id: i + 1, deviceId: 'north_field', topic: topics.weatherReading('north_field'), seq: i + 1, ts: records[i]!.ts, bytes: Buffer.byteLength(text) }));
  const measure = (maxBytes: number, encode: (envelope: { messageId: string; deviceId: string; seq: number; topic: string; body: string }) => Buffer[]) => {
    const plans = groupRows(rows, { maxRecords: settings.maxRecordsPerEnvelope, maxBytes, maxEnvelopes: Infinity });
    const payloads = plans.flatMap((plan) => encode({ messageId: '00000000-0000-4000-8000-000000000000', deviceId: plan.deviceId, seq: plan.seq, topic: plan.topic, body: texts.slice(plan.id - 1, plan.lastId).join(',') }));
    return { bytes: payloads.reduce((sum, payload) => sum + payload.length, 0), messages: payloads.length };
  };
  const plain = measure(settings.maxEnvelopeBytes, (envelope) => [Buffer.from(encodeEnvelope(envelope, START))]);
  const compressed = measure(COMPRESSED_ENVELOPE.maxInflatedBytes, (envelope) => compressedMessages(envelope, START, settings.maxEnvelopeBytes).map((m) => m.payload));
  return { plain: plain.bytes, compressed: compressed.bytes, plainEnvelopes: plain.messages, compressedMessages: compressed.messages };
}

async function drain(template: string, dir: string, url: string, compression: 'off' | 'deflate'): Promise<number> {
  const path = join(dir, `drain-${compression}.db`);
  copyFileSync(template, path);
  const outbox = Outbox.open({ path, log });
  const settings = iotCore(url, compression);
  const service = new UplinkService({ outbox: () => outbox, connector: new MqttConnector({ settings, clientId: `bench-${compression}`, log }), settings, thing: 'station-1', log });
  const started = performance.now();
  await service.start();
  while (outbox.depth() > 0) await new Promise((done) => setTimeout(done, 5));
  const ms = performance.now() - started;
  await service.stop();
  outbox.close();
  return ms;
}

const fiveMinute = weekOfRecords(new VirtualWeather('north_field'), START + 7 * 86_400_000);
const bytes = wireBytes(fiveMinute);
const perRecord = (total: number) => (total / fiveMinute.length).toFixed(1);
console.log(`a week of 5-minute readings (${fiveMinute.length} records), iot-core envelopes:`);
console.log(`  plain:      ${perRecord(bytes.plain)} bytes/record on the wire (${bytes.plain} bytes in ${bytes.plainEnvelopes} envelopes)`);
console.log(`  compressed: ${perRecord(bytes.compressed)} bytes/record on the wire (${bytes.compressed} bytes in ${bytes.compressedMessages} messages); ${(bytes.plain / bytes.compressed).toFixed(1)}x fewer bytes`);

const broker = await Mosquitto.start();
const temp = tempDir();
try {
  const template = join(temp.dir, 'filled.db');
  const outbox = Outbox.open({ path: template, log });
  for (let from = 0; from < WEEK; from += FILL_BATCH) {
    outbox.append(Array.from({ length: Math.min(FILL_BATCH, WEEK - from) }, (_, i) => ({ deviceId: 'station-1', topic: topics.weatherReading('station-1'), record: { ...weatherReading(START + (from + i) * 1000), rainfall: 0 } })));
  }
  outbox.close();
  const plainMs = await drain(template, temp.dir, broker.url, 'off');
  const compressedMs = await drain(template, temp.dir, broker.url, 'deflate');
  console.log(`drain of a week at one record a second (${WEEK} records) to mosquitto, iot-core profile (100 publishes/s), same run:`);
  console.log(`  plain (baseline): ${(plainMs / 1000).toFixed(1)} s`);
  console.log(`  compressed:       ${(compressedMs / 1000).toFixed(1)} s (goal < 5 s); ${(plainMs / compressedMs).toFixed(1)}x faster`);
} finally {
  await broker.stop();
  temp.remove();
}
