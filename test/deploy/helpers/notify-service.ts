// A service for systemd-notify.test.ts: runAsService with a station's record health, storing a record every
// 100 ms until `HEDGEROW_TEST_STORE_MS` have passed, then none, so the health turns bad; SIGTERM stops it.
import { createLogger } from '../../../hardware/core/logger.ts';
import { RecordHealth, runAsService } from '../../../bin/systemd-service.ts';

const health = new RecordHealth(500);
const storeUntil = Date.now() + Number(process.env.HEDGEROW_TEST_STORE_MS);
let timer: NodeJS.Timeout | undefined;
const sampler = {
  name: 'sampler',
  async start() {
    health.started();
    timer = setInterval(() => Date.now() < storeUntil && health.stored(), 100);
  },
  async stop() {
    clearInterval(timer);
  },
};
await runAsService([sampler], createLogger({ level: 'info', format: 'json' }), {
  started: () => 'sampling',
  problem: (now) => health.problem(now),
  status: () => 'sampling, records stored',
});
