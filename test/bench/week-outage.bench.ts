// A week-long outage of a station sampling once a second: 604,800 records queued, then drained to
// mosquitto with the IoT Core profile (at most 100 publishes/s and 100 in flight, envelopes under
// 128 KB) while a live record is appended every second by another process. The gateway is the real
// command a Pi runs, `node <flags> bin/hedgerow.js --config <yaml> gateway` with the node flags and
// NODE_OPTIONS of deploy.sh's systemd unit, and its memory is read from outside (/proc/<pid>/status
// every 50 ms).
// Reports the drain time, envelopes/s, records per envelope, live-record latency, and the gateway's
// idle RSS (from dist/ and through tsx), peak VmRSS with its anonymous/file split, and VmHWM.
// Baselines in the same run: the time the profile's rate alone allows for the same envelopes, and
// the RSS of node alone with the same flags.
// Run: node bin/run-ts.js test/bench/week-outage.bench.ts   (WEEK_RECORDS=50000 for a quick try;
// HEDGEROW_FROM_SOURCE=1 drains through tsx instead of dist/; WEEK_NODE_OPTIONS and WEEK_NODE_ARGS try
// other NODE_OPTIONS and node flags than deploy.sh's (e.g. WEEK_NODE_ARGS=--trace-gc), and
// WEEK_GATEWAY_LOG=<file> keeps the gateway's output; WEEK_UPLINK='{"maxInFlight":25}' tries other uplink settings;
// WEEK_COMMAND='station --hardware virtual' measures the station and uplink in one process, as deploy.sh's unit runs them)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { cpuSeconds, mb, readRss, RssSampler, type RssSample } from './fixtures/process-memory.ts';
import { weatherReading } from './fixtures/weather-reading.ts';
import { Mosquitto } from '../gateway/helpers/mosquitto.ts';
import { Collector } from '../gateway/helpers/subscriber.ts';
import { tempDir } from '../gateway/helpers/gateway-harness.ts';
import { unitSetting } from '../deploy/helpers/unit-settings.ts';
import { Outbox } from '../../gateway/outbox.ts';
import type { OutgoingRecord } from '../../hardware/core/contract.ts';

/** One record a second for a week; WEEK_RECORDS overrides it for a quick try. */
const WEEK = Number(process.env.WEEK_RECORDS ?? 604_800);
const FILL_BATCH = 2_000;
const START = Date.UTC(2026, 2, 1);
/** How long a connected gateway with nothing to send runs before its idle RSS is read. */
const IDLE_SETTLE_MS = 3_000;
const root = resolve(import.meta.dirname, '../..');
const drainFromSource = process.env.HEDGEROW_FROM_SOURCE === '1';

/** The hedgerow subcommand measured: the gateway alone by default. */
const COMMAND = (process.env.WEEK_COMMAND ?? 'gateway').split(' ').filter(Boolean);

// The unit's NODE_OPTIONS and node flags, so the bench measures what a Pi runs.
const NODE_OPTIONS = process.env.WEEK_NODE_OPTIONS ?? unitSetting(root, 'node_options');
const NODE_ARGS = (process.env.WEEK_NODE_ARGS ?? unitSetting(root, 'node_flags')).split(' ').filter(Boolean);

function reading(second: number, live = false): OutgoingRecord {
  return {
    deviceId: 'station-1',
    topic: 'dt/weather/station-1/reading',
    record: { ...weatherReading(START + second * 1000), rainfall: 0, ...(live ? { live_appended_at: Date.now() } : {}) },
  };
}

/** A config file for `hedgerow gateway`: the outbox in `dir`, the broker, IoT Core's profile, envelopes limited by bytes. */
function gatewayConfig(dir: string, thing: string, url: string): string {
  const file = join(dir, 'hedgerow.yaml');
  const uplink = { url, profile: 'iot-core', maxRecordsPerEnvelope: 10_000, ...(JSON.parse(process.env.WEEK_UPLINK ?? '{}') as object) };
  writeFileSync(file, stringify({ dataDir: dir, station: { id: thing }, outbox: { path: 'outbox.db' }, uplink }));
  return file;
}

interface Gateway {
  child: ChildProcess;
  output: () => string;
}

/** The command deploy.sh's unit runs, started as systemd starts it (NODE_OPTIONS in the environment). */
function startGateway(config: string, fromSource: boolean): Gateway {
  const child = spawn(process.execPath, [...NODE_ARGS, 'bin/hedgerow.js', '--config', config, ...COMMAND], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS, HEDGEROW_FROM_SOURCE: fromSource ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function connected(gateway: Gateway): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!/uplink connected/.test(gateway.output())) {
    if (gateway.child.exitCode !== null || Date.now() > deadline) throw new Error(`the gateway did not connect:\n${gateway.output()}`);
    await new Promise((done) => setTimeout(done, 5));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'close');
}

/** RSS of a connected gateway with an empty outbox, after it settled. */
async function idleGateway(dir: string, url: string, fromSource: boolean): Promise<RssSample> {
  mkdirSync(dir, { recursive: true });
  const gateway = startGateway(gatewayConfig(dir, 'idle', url), fromSource);
  try {
    await connected(gateway);
    await new Promise((done) => setTimeout(done, IDLE_SETTLE_MS));
    return readRss(gateway.child.pid!)!;
  } finally {
    await stop(gateway.child);
  }
}

/** RSS of node itself with the same flags, doing nothing: what no code change can go below. */
async function nodeAlone(): Promise<RssSample> {
  const child = spawn(process.execPath, [...NODE_ARGS, '-e', 'setInterval(() => {}, 1000)'], { env: { ...process.env, NODE_OPTIONS }, stdio: 'ignore' });
  await new Promise((done) => setTimeout(done, IDLE_SETTLE_MS));
  const sample = readRss(child.pid!)!;
  await stop(child);
  return sample;
}

const split = (s: RssSample | undefined) => `${mb(s?.rssMB)} MB (anonymous ${mb(s?.anonMB)}, file-backed ${mb(s?.fileMB)}, shared ${mb(s?.shmemMB)})`;

const build = spawnSync(process.execPath, ['bin/build.js', '--quiet'], { cwd: root, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
const broker = await Mosquitto.start();
const temp = tempDir();
const path = join(temp.dir, 'outbox.db');
try {
  const alone = await nodeAlone();
  const idleDist = await idleGateway(join(temp.dir, 'idle-dist'), broker.url, false);
  const idleTsx = await idleGateway(join(temp.dir, 'idle-tsx'), broker.url, true);

  const station = Outbox.open({ path, log: pino({ level: 'silent' }) });
  for (let from = 0; from < WEEK; from += FILL_BATCH) {
    station.append(Array.from({ length: Math.min(FILL_BATCH, WEEK - from) }, (_, i) => reading(from + i)));
  }
  const queued = station.stats();
  const collector = await Collector.start(broker.url, 'dt/weather/station-1/reading');
  const latencies: number[] = [];
  const liveArrived = new Set<number>();

  const gateway = startGateway(gatewayConfig(temp.dir, 'week', broker.url), drainFromSource);
  const sampler = new RssSampler(gateway.child.pid!, 50);
  await connected(gateway);
  const cpuAtStart = cpuSeconds(gateway.child.pid!) ?? NaN;
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
    console.error(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${got} records in ${collector.envelopes.length} envelopes, outbox depth ${station.depth()}, gateway RSS ${mb(sampler.last?.rssMB)} MB`);
  }, 10_000);
  await collector.until(() => collector.records().length >= WEEK + liveSent && liveSent > 0, 600_000);
  clearInterval(progress);
  const drainMs = Date.now() - started;
  clearInterval(live);
  await new Promise((done) => setTimeout(done, 100));
  clearInterval(watch);
  // VmHWM before SIGTERM: the kernel's peak over the whole run, including between samples.
  const end = sampler.last;
  const drainCpu = (cpuSeconds(gateway.child.pid!) ?? NaN) - cpuAtStart;
  sampler.stop();
  await stop(gateway.child);
  if (process.env.WEEK_GATEWAY_LOG) writeFileSync(process.env.WEEK_GATEWAY_LOG, gateway.output());
  station.close();
  await collector.stop();
  const fallback = /through tsx/.test(gateway.output()) && !drainFromSource;

  const envelopes = collector.envelopes.length;
  const sizes = collector.envelopes.map((envelope) => Buffer.byteLength(JSON.stringify(envelope)));
  const perEnvelope = collector.records().length / envelopes;
  const floorMs = (envelopes / 100) * 1_000;
  latencies.sort((a, b) => a - b);
  console.log(`week outage: ${queued.depth} records (${(queued.bytes / 2 ** 20).toFixed(0)} MB of JSON) queued, IoT Core profile${process.env.WEEK_UPLINK ? `, uplink ${process.env.WEEK_UPLINK}` : ''}`);
  console.log(`drained in ${(drainMs / 1000).toFixed(1)} s (goal < 120 s): ${envelopes} envelopes, ${((envelopes / drainMs) * 1000).toFixed(1)} envelopes/s, ${perEnvelope.toFixed(0)} records/envelope, largest envelope ${Math.max(...sizes)} bytes`);
  console.log(`baseline: 100 publishes/s alone needs ${(floorMs / 1000).toFixed(1)} s for ${envelopes} envelopes; gateway at ${((floorMs / drainMs) * 100).toFixed(0)}% of that limit`);
  console.log(`gateway CPU while draining: ${drainCpu.toFixed(1)} s (${((drainCpu / drainMs) * 100_000).toFixed(0)}% of one core)`);
  console.log(`live records during the drain: ${latencies.length}, latency median ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms`);
  const overridden = process.env.WEEK_NODE_OPTIONS !== undefined || process.env.WEEK_NODE_ARGS !== undefined;
  console.log(`gateway process: node ${NODE_ARGS.join(' ')} bin/hedgerow.js --config <yaml> ${COMMAND.join(' ')}, NODE_OPTIONS="${NODE_OPTIONS}" (${overridden ? 'WEEK_NODE_OPTIONS/ARGS, not deploy.sh\'s unit' : 'deploy.sh\'s unit'})`);
  console.log(`baseline: node alone with those flags ${split(alone)}`);
  console.log(`idle (connected, empty outbox): from dist/ ${split(idleDist)}, through tsx ${split(idleTsx)}; ratio tsx/dist ${(idleTsx.rssMB / idleDist.rssMB).toFixed(2)}`);
  console.log(
    `draining (${drainFromSource ? 'through tsx' : fallback ? 'through tsx: dist/ could not be used!' : 'from dist/'}): peak VmRSS ${split(sampler.peak)}, VmHWM ${mb(end?.hwmMB)} MB ` +
      `(goal < 100 MB); peak over idle ${((sampler.peak?.rssMB ?? NaN) - (drainFromSource ? idleTsx : idleDist).rssMB).toFixed(0)} MB, over node alone ${((end?.hwmMB ?? NaN) / alone.rssMB).toFixed(2)}x`,
  );
} finally {
  await broker.stop();
  temp.remove();
}
