// One ingest worker for pg-ingest.bench.ts: an engine on the bench's storage (a postgres:// URL, or
// `sqlite` on DATA_DIR). It prints "ready" once started, waits for "go" on stdin, sends its batches
// through BatchPutMessage (progress on stderr), prints "done" with its CPU time, and stops its engine and
// exits when stdin ends.
// Run by the bench only: node bin/run-ts.js test/bench/pg-ingest-worker.ts STORAGE DATA_DIR FIRST COUNT
import { createInterface } from 'node:readline';
import pino from 'pino';
import { AnalyticsEngine } from '../../cloud/engine/analytics-engine.ts';
import { cloudSettings } from '../../cloud/settings.ts';
import { BENCH_BATCH, benchBatches } from './fixtures/ingest-bench-data.ts';

const [storage, dataDir, first, count] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4]), Number(process.argv[5])];
const name = `worker ${first}+${count}`;
const engine = new AnalyticsEngine({
  settings: cloudSettings.parse({ dataDir, storage, resourceFiles: [], mqtt: { enabled: false } }),
  log: pino({ level: 'warn' }, process.stderr),
});
await engine.start();
const batches = benchBatches('w', first, count);
// stdin is the bench's line to us: "go" starts the run, its end stops this worker (also when the
// bench dies). The engine stays open until then, so the bench can read PostgreSQL's CPU before the
// pool's connections end.
const input = createInterface({ input: process.stdin });
const ended = new Promise<void>((resolve) => input.once('close', () => resolve()));
const go = new Promise<void>((resolve, reject) => {
  input.once('line', () => resolve());
  void ended.then(() => reject(new Error(`${name}: the bench closed stdin before "go"`)));
});
console.log('ready');
await go;
const cpu = process.cpuUsage();
const every = Math.max(1, Math.round(count / 5));
for (const [b, messages] of batches.entries()) {
  const result = await engine.batchPutMessage({ channelName: 'bench_channel', messages });
  if (result.batchPutMessageErrorEntries!.length > 0) throw new Error(`${name}: a bench message was refused: ${JSON.stringify(result.batchPutMessageErrorEntries![0])}`);
  if ((b + 1) % every === 0 && b + 1 < count) console.error(`  ${name}: ${(b + 1) * BENCH_BATCH} messages`);
}
const used = process.cpuUsage(cpu);
// "done <messages> <CPU ms since go>": the bench sums the CPU to show how busy the workers were.
console.log(`done ${count * BENCH_BATCH} ${Math.round((used.user + used.system) / 1000)}`);
await ended;
await engine.stop();
