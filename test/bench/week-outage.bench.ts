// A week-long outage of a station sampling once a second: 604,800 records queued, then drained to
// mosquitto with the IoT Core profile (at most 100 publishes/s and 100 in flight, envelopes under
// 128 KB) while a live record is appended every second by another process. Reports the drain time,
// envelopes/s, records per envelope, live-record latency and the gateway process's RSS.
// Baseline in the same run: the time the profile's rate alone allows for the same envelopes.
// Run: node cloud/bin/run-ts.js test/bench/week-outage.bench.ts
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { Mosquitto } from '../gateway/helpers/mosquitto.ts';
import { Collector } from '../gateway/helpers/subscriber.ts';
import { tempDir } from '../gateway/helpers/gateway-harness.ts';
import { Outbox } from '../../gateway/outbox.ts';
import type { OutgoingRecord } from '../../device/contract.ts';

/** One record a second for a week; WEEK_RECORDS overrides it for a quick try. */
const WEEK = Number(process.env.WEEK_RECORDS ?? 604_800);
const FILL_BATCH = 2_000;
const START = Date.UTC(2026, 2, 1);
const root = resolve(import.meta.dirname, '../..');

function reading(second: number, live = false): OutgoingRecord {
  return {
    deviceId: 'station-1',
    topic: 'dt/weather/station-1/reading',
    record: {
      ts: START + second * 1000,
      ambient_temperature: 12.34, ground_temperature: 9.87, air_quality: 41.2, air_pressure: 1013.25, humidity: 78.5,
      wind_direction: 225.4, wind_speed: 14.2, wind_gust_speed: 31.7, rainfall: 0,
      sensors: { bme280: 'ok', ds18b20: 'ok', anemometer: 'ok', rain_gauge: 'ok', wind_vane: 'ok', air_quality: 'ok' },
      ...(live ? { live_appended_at: Date.now() } : {}),
    },
  };
}

const broker = await Mosquitto.start();
const temp = tempDir();
const path = join(temp.dir, 'outbox.db');
try {
  const station = Outbox.open({ path, log: pino({ level: 'silent' }) });
  for (let from = 0; from < WEEK; from += FILL_BATCH) {
    station.append(Array.from({ length: Math.min(FILL_BATCH, WEEK - from) }, (_, i) => reading(from + i)));
  }
  const queued = station.stats();
  const collector = await Collector.start(broker.url, 'dt/weather/station-1/reading');
  const latencies: number[] = [];
  const liveArrived = new Set<number>();

  // GATEWAY_NODE_FLAGS tries V8 heap limits on the gateway process (e.g. "--max-semi-space-size=1").
  const flags = (process.env.GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, 'cloud/bin/run-ts.js', 'test/bench/fixtures/week-gateway.ts', path, broker.url], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  while (!output.includes('online')) await new Promise((done) => setTimeout(done, 5));
  const started = Date.now();
  let liveSent = 0;
  const live = setInterval(() => station.append([reading(WEEK + liveSent++, true)]), 1_000);
  const watch = setInterval(() => {
    for (const envelope of collector.envelopes.slice(-20)) {
      for (const record of envelope.records) {
        const appended = record.live_appended_at as number | undefined;
        if (appended !== undefined && !liveArrived.has(appended)) {
          liveArrived.add(appended);
          latencies.push(Date.now() - appended);
        }
      }
    }
  }, 10);
  const progress = setInterval(() => {
    const got = collector.records().length;
    console.error(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${got} records in ${collector.envelopes.length} envelopes, outbox depth ${station.stats().depth}`);
  }, 10_000);
  await collector.until(() => collector.records().length >= WEEK + liveSent && liveSent > 0, 600_000);
  clearInterval(progress);
  const drainMs = Date.now() - started;
  clearInterval(live);
  await new Promise((done) => setTimeout(done, 100));
  clearInterval(watch);
  child.kill('SIGTERM');
  await once(child, 'close');
  station.close();
  await collector.stop();

  const memory = JSON.parse(output.trim().split('\n').at(-1)!) as { idleRssMB: number; peakRssMB: number; maxRssMB: number; heapMB: number; externalMB: number; anonMB: number; fileMB: number; shmemMB: number };
  const envelopes = collector.envelopes.length;
  const sizes = collector.envelopes.map((envelope) => Buffer.byteLength(JSON.stringify(envelope)));
  const perEnvelope = collector.records().length / envelopes;
  const floorMs = (envelopes / 100) * 1_000;
  latencies.sort((a, b) => a - b);
  console.log(`week outage: ${queued.depth} records (${(queued.bytes / 2 ** 20).toFixed(0)} MB of JSON) queued, IoT Core profile`);
  console.log(`drained in ${(drainMs / 1000).toFixed(1)} s (goal < 120 s): ${envelopes} envelopes, ${((envelopes / drainMs) * 1000).toFixed(1)} envelopes/s, ${perEnvelope.toFixed(0)} records/envelope, largest envelope ${Math.max(...sizes)} bytes`);
  console.log(`baseline: 100 publishes/s alone needs ${(floorMs / 1000).toFixed(1)} s for ${envelopes} envelopes; gateway at ${((floorMs / drainMs) * 100).toFixed(0)}% of that limit`);
  console.log(`live records during the drain: ${latencies.length}, latency median ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms`);
  console.log(
    `gateway RSS: ${memory.idleRssMB.toFixed(0)} MB loaded and idle (Node + tsx loader + modules), peak ${memory.peakRssMB.toFixed(0)} MB sampled while draining, ` +
      `${memory.maxRssMB.toFixed(0)} MB max RSS (goal < 100 MB; at the peak V8 heap ${memory.heapMB.toFixed(0)} MB, buffers ${memory.externalMB.toFixed(0)} MB; anonymous ${memory.anonMB.toFixed(0)} MB, file-backed ${memory.fileMB.toFixed(0)} MB, shared ${memory.shmemMB.toFixed(0)} MB)${flags.length ? ` with ${flags.join(' ')}` : ''}`,
  );
} finally {
  await broker.stop();
  temp.remove();
}
