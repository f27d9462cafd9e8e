// One ingest worker for pg-ingest.bench.ts: an engine on the bench's PostgreSQL database. It prints
// "ready" once started, waits for a line on stdin, sends its batches through BatchPutMessage, prints
// "done", and exits. Run by the bench only: node bin/run-ts.js test/bench/pg-ingest-worker.ts URL FIRST COUNT
import { createInterface } from 'node:readline';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AnalyticsEngine } from '../../cloud/engine/analytics-engine.ts';
import { cloudSettings } from '../../cloud/settings.ts';
import { BENCH_BATCH, benchBatches } from './fixtures/ingest-bench-data.ts';

const [url, first, count] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const engine = new AnalyticsEngine({
  settings: cloudSettings.parse({ dataDir: mkdtempSync(join(tmpdir(), 'hedgerow-bench-worker-')), storage: url, resourceFiles: [], mqtt: { enabled: false } }),
  log: pino({ level: 'silent' }),
});
await engine.start();
const batches = benchBatches('w', first, count);
console.log('ready');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
for (const messages of batches) {
  const result = await engine.batchPutMessage({ channelName: 'bench_channel', messages });
  if (result.batchPutMessageErrorEntries!.length > 0) throw new Error('a bench message was refused');
}
console.log(`done ${count * BENCH_BATCH}`);
await engine.stop();
