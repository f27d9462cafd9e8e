import { defineConfig } from 'vitest/config';
import { HeavyFirstSequencer } from './test/heavy-first-sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real brokers and daemons on free ports; two cores is the machine's size.
    maxWorkers: 2,
    // The stand-in Pi's files and the e2e tests first: they are the run's longest (test/heavy-first-sequencer.ts).
    sequence: { sequencer: HeavyFirstSequencer },
  },
});
