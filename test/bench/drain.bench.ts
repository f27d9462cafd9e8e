// Drain: 100,000 queued records to mosquitto over loopback, QoS 1, rows deleted on PUBACK, beside
// raw mqtt.js QoS 1 loops with no storage in the same run: one with the very same envelopes, one
// with a message per record (what an uplink without batching sends).
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
const PER_ENVELOPE = 100;
const FILL_BATCH = 1_000;
const log = pino({ level: 'silent' });

/** Publishes payloads with QoS 1, at most `window` awaiting PUBACK; resolves when all are acknowledged. */
async function rawLoop(url: string, messages: { topic: string; payload: string }[], window: number): Promise<number> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, clientId: `raw-${Math.random()}` });
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

const broker = await Mosquitto.start();
const temp = tempDir();
try {
  const outbox = Outbox.open({ path: join(temp.dir, 'outbox.db'), log });
  for (let from = 0; from < RECORDS; from += FILL_BATCH) outbox.append(weatherBatch('station-1', from, FILL_BATCH));
  // The same envelopes the gateway will send, encoded once up front for the raw loop.
  const rows = outbox.readUnsent({ limit: RECORDS });
  const byId = new Map(rows.map((row) => [row.id, row]));
  const position = new Map(rows.map((row, index) => [row.id, index]));
  const plans = groupRows(rows, { maxEnvelopes: RECORDS, maxRecords: PER_ENVELOPE, maxBytes: 128_000 });
  const rawMessages = plans.map((plan) => {
    const body = rows
      .slice(position.get(plan.id), position.get(plan.lastId)! + 1)
      .map((row) => row.record)
      .join(',');
    return { topic: plan.topic, payload: encodeEnvelope({ ...plan, messageId: byId.get(plan.id)!.messageId, body }, Date.now()) };
  });
  const single = rows.map((row) => ({ topic: row.topic, payload: encodeEnvelope({ ...row, body: row.record }, Date.now()) }));

  const settings = uplinkSettings.parse({ url: broker.url, maxRecordsPerEnvelope: PER_ENVELOPE, maxInFlight: 100 });
  const connector = new MqttConnector({ settings, clientId: 'bench-gateway', log });
  // Learn the window the gateway will use (the broker's Receive Maximum may lower it) for the raw loops.
  const probe = await connector.connect({ topic: 'dt/weather/bench/status', payload: Buffer.from('{}') });
  const window = Math.max(1, Math.min(100, probe.receiveMaximum ?? Infinity) - 1);
  await probe.end();

  const service = new UplinkService({ outbox: () => outbox, connector, settings, thing: 'bench', log });
  const started = performance.now();
  await service.start();
  while (outbox.stats().depth > 0) await new Promise((done) => setTimeout(done, 5));
  const gatewayMs = performance.now() - started;
  await service.stop();
  const sent = outbox.stats().sentEnvelopes;
  outbox.close();

  const rawMs = await rawLoop(broker.url, rawMessages, window);
  const singleMs = await rawLoop(broker.url, single, window);

  const rate = (count: number, ms: number) => (count / ms) * 1_000;
  const gatewayMsgs = rate(sent, gatewayMs);
  const rawMsgs = rate(rawMessages.length, rawMs);
  const gatewayRecords = rate(RECORDS, gatewayMs);
  const singleRecords = rate(single.length, singleMs);
  console.log(`drain of ${RECORDS} records to mosquitto (QoS 1, ${window} in flight, ${PER_ENVELOPE} records per envelope)`);
  console.log(`gateway (outbox, delete on PUBACK): ${gatewayMs.toFixed(0)} ms, ${gatewayMsgs.toFixed(0)} msg/s, ${gatewayRecords.toFixed(0)} records/s`);
  console.log(`raw mqtt.js, same ${rawMessages.length} envelopes: ${rawMs.toFixed(0)} ms, ${rawMsgs.toFixed(0)} msg/s, ${rate(RECORDS, rawMs).toFixed(0)} records/s`);
  console.log(`raw mqtt.js, one message per record: ${singleMs.toFixed(0)} ms, ${rate(single.length, singleMs).toFixed(0)} msg/s, ${singleRecords.toFixed(0)} records/s`);
  console.log(`ratio messages/s gateway/raw: ${((gatewayMsgs / rawMsgs) * 100).toFixed(0)}% (goal >= 70%)`);
  console.log(`ratio records/s gateway/raw-per-record: ${(gatewayRecords / singleRecords).toFixed(1)}x (goal >= 10x)`);
} finally {
  await broker.stop();
  temp.remove();
}
