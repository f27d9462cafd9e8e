// Drain: 100,000 queued records to mosquitto over loopback, QoS 1, rows deleted on PUBACK, beside
// raw mqtt.js QoS 1 loops with no storage in the same run, publishing the very same messages:
//   1 record per envelope (no batching): gateway messages/s vs raw messages/s (goal >= 70%)
//   100 records per envelope: gateway vs raw with the same envelopes, and gateway records/s vs the
//   raw loop sending one message per record (goal >= 10x)
// Both sides are timed from their connect call to the last PUBACK. The machine is noisy, so every round
// runs all four back to back, and each ratio is the median of the per-round ratios.
// Run: node bin/run-ts.js test/bench/drain.bench.ts
import mqtt from 'mqtt';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Mosquitto } from '../gateway/helpers/mosquitto.ts';
import { tempDir, weatherBatch } from '../gateway/helpers/gateway-harness.ts';
import { Outbox } from '../../gateway/outbox.ts';
import { encodeEnvelope, groupRows } from '../../gateway/envelope.ts';
import { MqttConnector } from '../../gateway/mqtt-uplink.ts';
import { uplinkSettings } from '../../gateway/settings.ts';
import { UplinkService } from '../../gateway/uplink-service.ts';

const RECORDS = 100_000;
const FILL_BATCH = 1_000;
const ROUNDS = Number(process.env.DRAIN_ROUNDS ?? 3);
const log = pino({ level: 'silent' });
const broker = await Mosquitto.start();
const temp = tempDir();

interface Message {
  topic: string;
  payload: string;
}

/** Wall time, this process's CPU time (user + system) in ms, and the bytes it passed to write(2), sockets included. */
interface Timed {
  ms: number;
  cpuMs: number;
  writtenBytes: number;
}

/** Bytes this process has written through write(2) and friends (Linux /proc/self/io `wchar`). */
function writtenSoFar(): number {
  return Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);
}

function stopwatch(): () => Timed {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const written = writtenSoFar();
  return () => {
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1_000, writtenBytes: writtenSoFar() - written };
  };
}

/** Connects, publishes with QoS 1 with at most `window` awaiting PUBACK; times it until all are acknowledged. */
async function rawLoop(messages: Message[], window: number): Promise<Timed> {
  const stop = stopwatch();
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0, clientId: `raw-${Math.random()}` });
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    let done = 0;
    const send = () => {
      const message = messages[next++]!;
      client.publish(message.topic, message.payload, { qos: 1 }, (error) => {
        if (error) return reject(error);
        done += 1;
        if (done === messages.length) resolve();
        else if (next < messages.length) send();
      });
    };
    for (let i = 0; i < Math.min(window, messages.length); i += 1) send();
  });
  const timed = stop();
  await client.endAsync();
  return timed;
}

/** A filled outbox file, closed: every drain starts from a copy of it. */
function fill(name: string): string {
  const path = join(temp.dir, `${name}.db`);
  const outbox = Outbox.open({ path, log });
  for (let from = 0; from < RECORDS; from += FILL_BATCH) outbox.append(weatherBatch('station-1', from, FILL_BATCH));
  outbox.close();
  return path;
}

/**
 * The messages the gateway sends from that file, encoded for the raw loop. Built just before each
 * raw round and dropped after it, so the gateway never drains beside 100,000 strings it did not make.
 */
function messagesOf(path: string, perEnvelope: number): Message[] {
  const outbox = Outbox.open({ path, log, readonly: true });
  const rows = outbox.readUnsent({ limit: RECORDS });
  outbox.close();
  const position = new Map(rows.map((row, index) => [row.id, index]));
  const plans = groupRows(rows, { maxEnvelopes: RECORDS, maxRecords: perEnvelope, maxBytes: 128_000 });
  return plans.map((plan) => {
    const members = rows.slice(position.get(plan.id), position.get(plan.lastId)! + 1);
    const body = members.map((row) => row.record).join(',');
    return { topic: plan.topic, payload: encodeEnvelope({ ...plan, messageId: members[0]!.messageId, body }, Date.now()) };
  });
}

/** Drains a copy of the filled file through the gateway; times it from start until every row is deleted. */
async function drain(template: string, perEnvelope: number, round: number): Promise<Timed> {
  const path = join(temp.dir, `drain-${perEnvelope}-${round}.db`);
  copyFileSync(template, path);
  const outbox = Outbox.open({ path, log });
  const settings = uplinkSettings.parse({ url: broker.url, maxRecordsPerEnvelope: perEnvelope, maxInFlight: 100 });
  const service = new UplinkService({ outbox: () => outbox, connector: new MqttConnector({ settings, clientId: `bench-${perEnvelope}`, log }), settings, thing: 'bench', log });
  const stop = stopwatch();
  await service.start();
  // depth() reads one counter; stats() (with the rows stamped into envelopes in flight) every 2 ms
  // cost the drain it was watching about 30 ms of its event loop.
  while (outbox.depth() > 0) await new Promise((done) => setTimeout(done, 1));
  const timed = stop();
  await service.stop();
  outbox.close();
  return timed;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

try {
  // The window the gateway uses (the broker's Receive Maximum may lower it), for the raw loops too.
  const probeSettings = uplinkSettings.parse({ url: broker.url });
  const probe = await new MqttConnector({ settings: probeSettings, clientId: 'probe', log }).connect({ topic: 'dt/weather/bench/status', payload: Buffer.from('{}') });
  const window = Math.max(1, Math.min(100, probe.receiveMaximum ?? Infinity) - 1);
  await probe.end();

  // Each round runs all four, so the ratios compare runs made moments apart under the same load.
  const template = fill('filled');
  const rounds: { gateway1: Timed; raw1: Timed; gateway100: Timed; raw100: Timed }[] = [];
  const counts = { 1: 0, 100: 0 };
  const none: Timed = { ms: 0, cpuMs: 0, writtenBytes: 0 };
  for (let round = 0; round < ROUNDS; round += 1) {
    const timed = { gateway1: none, raw1: none, gateway100: none, raw100: none };
    for (const perEnvelope of [1, 100] as const) {
      const gatewayMs = await drain(template, perEnvelope, round);
      const messages = messagesOf(template, perEnvelope);
      counts[perEnvelope] = messages.length;
      const rawMs = await rawLoop(messages, window);
      if (perEnvelope === 1) Object.assign(timed, { gateway1: gatewayMs, raw1: rawMs });
      else Object.assign(timed, { gateway100: gatewayMs, raw100: rawMs });
    }
    rounds.push(timed);
  }

  const perSecond = (count: number, ms: number) => (count / ms) * 1_000;
  const line = (name: string, messages: number, runs: Timed[]) => {
    const ms = median(runs.map((run) => run.ms));
    const cpuPerMessage = (median(runs.map((run) => run.cpuMs)) * 1_000) / messages;
    return (
      `${name.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms ${perSecond(messages, ms).toFixed(0).padStart(8)} msg/s ${perSecond(RECORDS, ms).toFixed(0).padStart(8)} records/s ` +
      `${cpuPerMessage.toFixed(1).padStart(6)} us CPU/msg   (rounds: ${runs.map((run) => run.ms.toFixed(0)).join(', ')} ms)`
    );
  };
  const ratio = (of: (round: (typeof rounds)[number]) => number, format: (value: number) => string) => {
    const values = rounds.map(of);
    return `${format(median(values))} (rounds: ${values.map(format).join(', ')})`;
  };
  const percent = (value: number) => `${(value * 100).toFixed(0)}%`;
  const times = (value: number) => `${value.toFixed(1)}x`;
  console.log(`drain of ${RECORDS} records to mosquitto over loopback (QoS 1, ${window} in flight), ${ROUNDS} rounds, connect included; medians`);
  console.log(line('gateway, 1 record per envelope', counts[1], rounds.map((round) => round.gateway1)));
  console.log(line(`raw mqtt.js, the same ${counts[1]} messages`, counts[1], rounds.map((round) => round.raw1)));
  console.log(line('gateway, 100 records per envelope', counts[100], rounds.map((round) => round.gateway100)));
  console.log(line(`raw mqtt.js, the same ${counts[100]} envelopes`, counts[100], rounds.map((round) => round.raw100)));
  console.log(`messages/s, gateway / raw, 1 record per envelope:   ${ratio((round) => round.raw1.ms / round.gateway1.ms, percent)} (goal >= 70%)`);
  console.log(`messages/s, gateway / raw, 100 records per envelope: ${ratio((round) => round.raw100.ms / round.gateway100.ms, percent)}`);
  console.log(`CPU time per message, raw / gateway, 1 record per envelope: ${ratio((round) => round.raw1.cpuMs / round.gateway1.cpuMs, percent)} (this process only: steadier than wall time on a busy machine)`);
  // write(2) bytes include the socket; the raw loop writes the same messages to it and nothing else,
  // so the difference is what the outbox wrote to its files (WAL and checkpoints): SD card wear on a Pi.
  const writtenMB = (runs: Timed[]) => median(runs.map((run) => run.writtenBytes)) / 2 ** 20;
  const fileWrites = (perEnvelope: 1 | 100) => {
    const gateway = writtenMB(rounds.map((round) => (perEnvelope === 1 ? round.gateway1 : round.gateway100)));
    const raw = writtenMB(rounds.map((round) => (perEnvelope === 1 ? round.raw1 : round.raw100)));
    return `${perEnvelope} per envelope ${(gateway - raw).toFixed(1)} MB (${gateway.toFixed(1)} written, ${raw.toFixed(1)} by the raw loop)`;
  };
  console.log(`outbox file writes while draining: ${fileWrites(1)}, ${fileWrites(100)}; the filled outbox file is ${(statSync(template).size / 2 ** 20).toFixed(1)} MB`);
  console.log(`records/s, batched gateway / raw one-message-per-record loop: ${ratio((round) => round.raw1.ms / round.gateway100.ms, times)} (goal >= 10x)`);
} finally {
  await broker.stop();
  temp.remove();
}
