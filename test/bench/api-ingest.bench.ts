// API ingest: BatchPutMessage of 100-message batches over HTTP (SigV4-signed, JSON, base64 payloads, one
// keep-alive connection) through a 5-activity pipeline into a datastore, in messages/s. Beside it, in the
// same run, the same batches handed to the engine directly: the ratio is what the REST layer costs.
// Run: node bin/run-ts.js test/bench/api-ingest.bench.ts [messages]
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { apiSettings } from '../../cloud/api/api-settings.ts';
import { SIGNING_NAME } from '../../cloud/api/server.ts';
import { signRequest } from '../../cloud/api/sigv4.ts';
import { startCloud } from '../../cloud/api/start-cloud.ts';
import { cloudSettings } from '../../cloud/settings.ts';

const MESSAGES = Number(process.argv[2] ?? 50_000);
const BATCH = 100;
const ROUNDS = 4;
const KEY = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret-0123456789abcdef' };

const activities = (channelName: string, datastoreName: string) => [
  { channel: { name: 'in', channelName, next: 'sane' } },
  { filter: { name: 'sane', filter: 'ambient_temperature > -60 AND ambient_temperature < 60', next: 'fahrenheit' } },
  { math: { name: 'fahrenheit', attribute: 'ambient_temperature_f', math: 'ambient_temperature * 9 / 5 + 32', next: 'station' } },
  { addAttributes: { name: 'station', attributes: { device_id: 'station' }, next: 'drop' } },
  { removeAttributes: { name: 'drop', attributes: ['sensors'], next: 'keep' } },
  { selectAttributes: { name: 'keep', attributes: ['ts', 'station', 'device_id', 'ambient_temperature', 'ambient_temperature_f', 'humidity', 'rainfall'], next: 'out' } },
  { datastore: { name: 'out', datastoreName } },
];

function batch(round: string, first: number): Array<{ messageId: string; payload: Buffer }> {
  return Array.from({ length: BATCH }, (_, k) => {
    const i = first + k;
    const reading = { ts: 1_700_000_000_000 + i * 60_000, device_id: `station_${i % 20}`, ambient_temperature: 10 + (i % 170) / 10, humidity: 78.5, rainfall: 0.2794, sensors: { bme280: 'ok' } };
    return { messageId: `${round}-${i}`, payload: Buffer.from(JSON.stringify(reading)) };
  });
}

const dir = mkdtempSync(join(tmpdir(), 'hedgerow-api-bench-'));
const cloud = startCloud({
  settings: {
    cloud: cloudSettings.parse({ dataDir: dir, resourceFiles: [], mqtt: { enabled: false } }),
    api: apiSettings.parse({ port: 0, accessKeys: [KEY] }),
  },
  log: pino({ level: 'silent' }),
  env: {},
});
await cloud.start();
const engine = cloud.engine;
for (const side of ['direct', 'api']) {
  await engine.createChannel({ channelName: `${side}_channel` });
  await engine.createDatastore({ datastoreName: `${side}_store` });
  await engine.createPipeline({ pipelineName: `${side}_pipeline`, pipelineActivities: activities(`${side}_channel`, `${side}_store`) });
}

const { port } = new URL(cloud.endpoint);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function post(body: Buffer): Promise<void> {
  const headers = signRequest(
    { method: 'POST', path: '/messages/batch', query: '', headers: [['content-type', 'application/json']], body, host: `127.0.0.1:${port}` },
    { ...KEY, region: 'eu-west-1', service: SIGNING_NAME, time: new Date() },
  );
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/messages/batch', agent, headers: Object.fromEntries([...headers, ['content-length', String(body.length)]]) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 && Buffer.concat(chunks).toString() === '{"batchPutMessageErrorEntries":[]}' ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function timed(run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  return MESSAGES / ((performance.now() - start) / 1000);
}

const runDirect = (round: number) =>
  timed(async () => {
    for (let i = 0; i < MESSAGES; i += BATCH) {
      const result = await engine.batchPutMessage({ channelName: 'direct_channel', messages: batch(`r${round}`, i) });
      if (result.batchPutMessageErrorEntries?.length) throw new Error('direct batch refused');
    }
  });
const runApi = (round: number) =>
  timed(async () => {
    for (let i = 0; i < MESSAGES; i += BATCH) {
      const messages = batch(`r${round}`, i).map((m) => ({ messageId: m.messageId, payload: m.payload.toString('base64') }));
      await post(Buffer.from(JSON.stringify({ channelName: 'api_channel', messages })));
    }
  });

// Alternate which side goes first, so neither always pays for the other's WAL checkpoints.
const best = { direct: 0, api: 0 };
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? (['direct', 'api'] as const) : (['api', 'direct'] as const);
  for (const side of order) {
    const rate = side === 'direct' ? await runDirect(round) : await runApi(round);
    best[side] = Math.max(best[side], rate);
  }
}

agent.destroy();
await cloud.stop();
rmSync(dir, { recursive: true, force: true });

const fmt = (n: number) => Math.round(n).toLocaleString('en');
console.log(`api-ingest: ${fmt(MESSAGES)} messages in ${BATCH}-message batches, 5-activity pipeline, best of ${ROUNDS}`);
console.log(`  BatchPutMessage over HTTP (SigV4, JSON, base64): ${fmt(best.api)} messages/s`);
console.log(`  baseline, engine.batchPutMessage directly:       ${fmt(best.direct)} messages/s`);
console.log(`  ratio API / direct: ${(best.api / best.direct).toFixed(2)}`);
