// Drain: 100,000 queued records to mosquitto over loopback, QoS 1, rows deleted on PUBACK, beside
// raw mqtt.js QoS 1 loops with no storage in the same run, publishing the very same messages:
//   1 record per envelope (no batching): gateway messages/s vs raw messages/s (goal >= 70%)
//   100 records per envelope: gateway vs raw with the same envelopes, and gateway records/s vs the
//   raw loop sending one message per record (goal >= 10x)
// Run: node cloud/bin/run-ts.js test/bench/drain.bench.ts
import mqtt from 'mqtt';
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
const log = pino({ level: 'silent' });
const broker = await Mosquitto.start();
const temp = tempDir();

interface Message {
  topic: string;
  payload: string;
}

/** Publishes with QoS 1, at most `window` awaiting PUBACK; returns ms until all are acknowledged. */
async function rawLoop(messages: Message[], window: number): Promise<number> {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0, clientId: `raw-${Math.random()}` });
  const started = performance.now();
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
  const ms = performance.now() - started;
  await client.endAsync();
  return ms;
}

/** A filled outbox, and the messages the gateway will send from it, encoded up front for the raw loop. */
function prepare(name: string, perEnvelope: number): { outbox: Outbox; messages: Message[] } {
  const outbox = Outbox.open({ path: join(temp.dir, `${name}.db`), log });
  for (let from = 0; from < RECORDS; from += FILL_BATCH) outbox.append(weatherBatch('station-1', from, FILL_BATCH));
  const rows = outbox.readUnsent({ limit: RECORDS });
  const position = new Map(rows.map((row, index) => [row.id, index]));
  const plans = groupRows(rows, { maxEnvelopes: RECORDS, maxRecords: perEnvelope, maxBytes: 128_000 });
  const messages = plans.map((plan) => {
    const members = rows.slice(position.get(plan.id), position.get(plan.lastId)! + 1);
    const body = members.map((row) => row.record).join(',');
    return { topic: plan.topic, payload: encodeEnvelope({ ...plan, messageId: members[0]!.messageId, body }, Date.now()) };
  });
  return { outbox, messages };
}

/** Drains the outbox through the gateway; returns ms until every row is deleted. */
async function drain(outbox: Outbox, perEnvelope: number): Promise<number> {
  const settings = uplinkSettings.parse({ url: broker.url, maxRecordsPerEnvelope: perEnvelope, maxInFlight: 100 });
  const service = new UplinkService({ outbox: () => outbox, connector: new MqttConnector({ settings, clientId: `bench-${perEnvelope}`, log }), settings, thing: 'bench', log });
  const started = performance.now();
  await service.start();
  // depth() reads one counter; stats() (with the rows stamped into envelopes in flight) every 2 ms
  // cost the drain it was watching about 30 ms of its event loop.
  while (outbox.depth() > 0) await new Promise((done) => setTimeout(done, 2));
  const ms = performance.now() - started;
  await service.stop();
  outbox.close();
  return ms;
}

try {
  // The window the gateway uses (the broker's Receive Maximum may lower it), for the raw loops too.
  const probeSettings = uplinkSettings.parse({ url: broker.url });
  const probe = await new MqttConnector({ settings: probeSettings, clientId: 'probe', log }).connect({ topic: 'dt/weather/bench/status', payload: Buffer.from('{}') });
  const window = Math.max(1, Math.min(100, probe.receiveMaximum ?? Infinity) - 1);
  await probe.end();

  const single = prepare('single', 1);
  const singleGatewayMs = await drain(single.outbox, 1);
  const singleRawMs = await rawLoop(single.messages, window);
  const batched = prepare('batched', 100);
  const batchedGatewayMs = await drain(batched.outbox, 100);
  const batchedRawMs = await rawLoop(batched.messages, window);

  const perSecond = (count: number, ms: number) => (count / ms) * 1_000;
  const line = (name: string, messages: number, ms: number) =>
    `${name.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms ${perSecond(messages, ms).toFixed(0).padStart(8)} msg/s ${perSecond(RECORDS, ms).toFixed(0).padStart(8)} records/s`;
  console.log(`drain of ${RECORDS} records to mosquitto over loopback (QoS 1, ${window} in flight)`);
  console.log(line('gateway, 1 record per envelope', single.messages.length, singleGatewayMs));
  console.log(line('raw mqtt.js, the same 100000 messages', single.messages.length, singleRawMs));
  console.log(line('gateway, 100 records per envelope', batched.messages.length, batchedGatewayMs));
  console.log(line(`raw mqtt.js, the same ${batched.messages.length} envelopes`, batched.messages.length, batchedRawMs));
  const unbatchedRatio = singleRawMs / singleGatewayMs;
  const batchedRatio = batchedRawMs / batchedGatewayMs;
  const recordsRatio = singleRawMs / batchedGatewayMs;
  console.log(`messages/s, gateway / raw, 1 record per envelope:   ${(unbatchedRatio * 100).toFixed(0)}% (goal >= 70%)`);
  console.log(`messages/s, gateway / raw, 100 records per envelope: ${(batchedRatio * 100).toFixed(0)}%`);
  console.log(`records/s, batched gateway / raw one-message-per-record loop: ${recordsRatio.toFixed(1)}x (goal >= 10x)`);
} finally {
  await broker.stop();
  temp.remove();
}
