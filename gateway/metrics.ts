import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { ConnectionState } from '../hardware/core/contract.ts';
import type { Outbox } from './outbox.ts';

/**
 * The station's metrics, in a prom-client registry of its own (a test process runs several
 * stations). The outbox's figures are the outbox's own running totals (outbox.stats(), kept in its
 * SQLite file), read when the metrics are collected; only what nothing else counts is counted here:
 * publishes and the time each waited for its PUBACK. They travel in the retained status message as a
 * compact `{ name: value }` object, since a station on a Pi serves no HTTP.
 */

// prom-client's index also loads its Pushgateway (http, https), cluster aggregator and process metrics:
// 80-100 ms here at every station start (0.3 s under load, more on a Pi Zero), which slowed the
// crash-loop test's 31 gateway starts by 0.8 s each. The station needs four classes, which load in 5 ms.
const requireLib = createRequire(import.meta.url);
const Registry = requireLib('prom-client/lib/registry') as typeof PromClient.Registry;
const Counter = requireLib('prom-client/lib/counter') as typeof PromClient.Counter;
const Gauge = requireLib('prom-client/lib/gauge') as typeof PromClient.Gauge;
const Histogram = requireLib('prom-client/lib/histogram') as typeof PromClient.Histogram;

/** PUBACKs take about a millisecond on a LAN and seconds over a congested mobile link. */
const PUBACK_SECONDS_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10];

export interface StationMetricsSources {
  outbox: () => Outbox;
  state: () => ConnectionState;
}

export class StationMetrics {
  readonly registry: PromClient.Registry;
  private readonly publishes: PromClient.Counter;
  /** Bound to its (empty) label set: observe() then costs about 0.2 µs instead of 1.2 µs, on the drain's per-PUBACK path. */
  private readonly pubackSeconds: ReturnType<PromClient.Histogram['labels']>;

  constructor(sources: StationMetricsSources) {
    this.registry = new Registry();
    const registers = [this.registry];
    const stats = () => sources.outbox().stats();
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    // Running totals the outbox keeps across restarts: a scrape copies them in.
    const total = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    gauge('hedgerow_outbox_depth_records', 'Records queued in the outbox', () => stats().depth);
    gauge('hedgerow_outbox_bytes', 'Bytes of record JSON queued in the outbox', () => stats().bytes);
    gauge('hedgerow_outbox_oldest_age_seconds', 'Age of the oldest queued record (0 when empty)', () => (stats().oldestAgeMs ?? 0) / 1000);
    total('hedgerow_outbox_sent_records_total', 'Records the broker acknowledged', () => stats().sentRecords);
    total('hedgerow_outbox_sent_envelopes_total', 'Envelopes the broker acknowledged', () => stats().sentEnvelopes);
    total('hedgerow_outbox_dropped_records_total', 'Records the byte cap dropped (outbox.capPolicy)', () => stats().droppedRecords);
    total('hedgerow_outbox_retried_envelopes_total', 'Envelopes published again after a reconnect or restart', () => stats().retriedEnvelopes);
    total('hedgerow_outbox_refused_batches_total', 'Appends the block policy refused since the outbox opened', () => stats().refusedBatches);
    gauge('hedgerow_uplink_connected', '1 while the uplink is connected to its broker, else 0', () => (sources.state() === 'online' ? 1 : 0));
    this.publishes = new Counter({ name: 'hedgerow_uplink_publishes_total', help: 'Envelopes published (QoS 1), retries included', registers });
    this.pubackSeconds = new Histogram({
      name: 'hedgerow_uplink_puback_seconds',
      help: 'Time from publishing an envelope to its PUBACK',
      buckets: PUBACK_SECONDS_BUCKETS,
      registers,
    }).labels();
  }

  published(): void {
    this.publishes.inc();
  }

  acknowledged(afterMs: number): void {
    this.pubackSeconds.observe(afterMs / 1000);
  }

  /**
   * Every metric as name -> value for the status message. Histograms give their _count and _sum
   * (buckets would triple the message for little use on a status line).
   */
  async compact(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const metric of await this.registry.getMetricsAsJSON()) {
      for (const value of metric.values) {
        // Histogram values name their series (_bucket, _sum, _count); the typings leave that out.
        const name = (value as { metricName?: string }).metricName ?? metric.name;
        if (name.endsWith('_bucket')) continue;
        out[name] = Math.round(value.value * 1e6) / 1e6;
      }
    }
    return out;
  }
}
