// MQTT envelope to channel messages (cloud/ingest/topic-rule.ts payloadMessages), in records/s, with the wire
// contract's checks: deviceId against the topic, each record parsed with the weather record schema.
// Beside it, in the same run, what ingest did before the contract: JSON.parse and the attribute-name
// check per record, nothing else.
// Run: node bin/run-ts.js test/bench/envelope-check.bench.ts [envelopes]
import { messageProblem } from '../../cloud/engine/names.ts';
import { payloadMessages } from '../../cloud/ingest/topic-rule.ts';
import { topics } from '../../hardware/core/contract.ts';
import { weatherReading } from './fixtures/weather-reading.ts';

const ENVELOPES = Number(process.argv[2] ?? 2_000);
const RECORDS = 100;
const ROUNDS = 3;
const topic = topics.weatherReading('station_1');

const payloads = Array.from({ length: ENVELOPES }, (_, e) =>
  Buffer.from(JSON.stringify({ messageId: `m${e}`, deviceId: 'station_1', seq: e * RECORDS, sentAt: 1, records: Array.from({ length: RECORDS }, (_, i) => weatherReading(1_700_000_000_000 + (e * RECORDS + i) * 60_000)) })),
);

function rate(run: (payload: Buffer) => number): number {
  const started = process.hrtime.bigint();
  let records = 0;
  for (const payload of payloads) records += run(payload);
  if (records !== ENVELOPES * RECORDS) throw new Error(`expected ${ENVELOPES * RECORDS} records, got ${records}`);
  return records / (Number(process.hrtime.bigint() - started) / 1e9);
}

const contract = (payload: Buffer) => payloadMessages(payload, true, () => 'x', topic).messages.length;
const before = (payload: Buffer) => {
  const body = JSON.parse(payload.toString('utf8')) as { deviceId: string; records: Record<string, unknown>[] };
  let n = 0;
  for (const record of body.records) if (!messageProblem({ ...record, device_id: body.deviceId })) n += 1;
  return n;
};

let best = { contract: 0, before: 0 };
for (let round = 0; round < ROUNDS; round += 1) {
  best = { contract: Math.max(best.contract, rate(contract)), before: Math.max(best.before, rate(before)) };
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`envelope check, ${fmt(ENVELOPES)} envelopes of ${RECORDS} weather records (best of ${ROUNDS})`);
console.log(`  with the contract (identity + record schema): ${fmt(best.contract)} records/s`);
console.log(`  baseline: JSON.parse + attribute names only : ${fmt(best.before)} records/s`);
console.log(`  ratio                                       : ${((best.contract / best.before) * 100).toFixed(1)}%`);
