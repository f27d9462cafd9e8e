import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { datasetContentStatus } from '../model/datasets.ts';
import type { DatasetContentState, IngestStats } from './engine.ts';

/**
 * The engine's Prometheus metrics, in a registry of its own (never prom-client's global one: a test
 * process runs several engines). Figures the engine already keeps (the MQTT ingest counters) are read
 * when scraped, not counted a second time; the rest are counted here, once per batch or run, so the
 * ingest path pays a few map lookups per 100 messages.
 *
 * Process metrics (CPU, memory, event loop) are the process's, not an engine's: cloud/api/metrics-route.ts
 * adds them to a scrape.
 *
 * Labels stay bounded: channel, pipeline and dataset names (resources the operator created) and a
 * fixed list of refusal reasons, never a message's own text.
 */

/** Why the MQTT ingest refused a payload or record, as a bounded label (the text goes to the log). */
export const REFUSAL_REASONS = ['payload', 'record', 'impersonation', 'status', 'internal'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Dataset content states (IoT Analytics' CREATING / SUCCEEDED / FAILED), from the API model. */
const CONTENT_STATES = datasetContentStatus.shape.state.unwrap().options;

/** Dataset runs take from milliseconds (a small table) to minutes (a year of a busy station). */
const RUN_SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300];

export interface EngineMetricsOptions {
  /** The MQTT ingest's own counters, read at scrape time. */
  ingestStats: () => IngestStats;
}

export class EngineMetrics {
  readonly registry = new Registry();
  private readonly channelMessages: Counter<'channel'>;
  private readonly channelDuplicates: Counter<'channel'>;
  private readonly batchPutMessages: Counter<'result'>;
  private readonly batchErrors: Counter<'pipeline'>;
  private readonly activityErrors: Counter<'pipeline' | 'activity'>;
  private readonly datasetRunSeconds: Histogram<'dataset' | 'state'>;
  private readonly datasetState: Gauge<'dataset' | 'state'>;

  constructor(options: EngineMetricsOptions) {
    const registers = [this.registry];
    this.channelMessages = new Counter({
      name: 'hedgerow_channel_messages_total',
      help: 'Messages a channel stored (new messageIds), from MQTT topic rules and BatchPutMessage',
      labelNames: ['channel'],
      registers,
    });
    this.channelDuplicates = new Counter({
      name: 'hedgerow_channel_duplicate_messages_total',
      help: 'Messages a channel dropped because it already held their messageId (a resent envelope)',
      labelNames: ['channel'],
      registers,
    });
    this.batchPutMessages = new Counter({
      name: 'hedgerow_batch_put_messages_total',
      help: 'Messages sent with BatchPutMessage: accepted (stored or duplicate) or refused (in batchPutMessageErrorEntries)',
      labelNames: ['result'],
      registers,
    });
    this.activityErrors = new Counter({
      name: 'hedgerow_pipeline_activity_errors_total',
      help: 'Times an activity failed on a chunk of messages and dropped it (a lambda that threw or timed out; logged)',
      labelNames: ['pipeline', 'activity'],
      registers,
    });
    this.batchErrors = new Counter({
      name: 'hedgerow_pipeline_batch_errors_total',
      help: 'Batches a pipeline failed on as a whole (logged; the raw messages stay in the channel, reprocessing can redo them)',
      labelNames: ['pipeline'],
      registers,
    });
    this.datasetRunSeconds = new Histogram({
      name: 'hedgerow_dataset_content_run_seconds',
      help: 'How long a dataset content run took, by its final state',
      labelNames: ['dataset', 'state'],
      buckets: RUN_SECONDS_BUCKETS,
      registers,
    });
    this.datasetState = new Gauge({
      name: 'hedgerow_dataset_content_state',
      help: "1 for the state of the dataset's latest content run, 0 for the other states",
      labelNames: ['dataset', 'state'],
      registers,
    });
    const ingest = options.ingestStats;
    // The ingest keeps these counts itself (ingestStats()); a scrape copies them in.
    new Counter({
      name: 'hedgerow_mqtt_messages_total',
      help: 'MQTT messages the ingest handled since the engine started',
      registers,
      collect() {
        this.reset();
        this.inc(ingest().received);
      },
    });
    new Counter({
      name: 'hedgerow_mqtt_refused_total',
      help: 'MQTT payloads or records the ingest refused since the engine started, by reason (the log has each reason in words)',
      labelNames: ['reason'],
      registers,
      collect() {
        const by = ingest().rejectedBy ?? {};
        this.reset();
        for (const reason of REFUSAL_REASONS) this.inc({ reason }, by[reason] ?? 0);
      },
    });
  }

  /** A channel stored `fresh` new messages of `total` (the rest were duplicates). */
  stored(channel: string, fresh: number, total: number): void {
    if (fresh > 0) this.channelMessages.inc({ channel }, fresh);
    if (total > fresh) this.channelDuplicates.inc({ channel }, total - fresh);
  }

  batchPut(accepted: number, refused: number): void {
    if (accepted > 0) this.batchPutMessages.inc({ result: 'accepted' }, accepted);
    if (refused > 0) this.batchPutMessages.inc({ result: 'refused' }, refused);
  }

  activityFailed(pipeline: string, activity: string): void {
    this.activityErrors.inc({ pipeline, activity });
  }

  batchFailed(pipeline: string): void {
    this.batchErrors.inc({ pipeline });
  }

  /** A dataset content run started (CREATING) or ended; `seconds` only when it ended. */
  datasetRun(dataset: string, state: DatasetContentState, seconds?: number): void {
    for (const s of CONTENT_STATES) this.datasetState.set({ dataset, state: s }, s === state ? 1 : 0);
    if (seconds !== undefined) this.datasetRunSeconds.observe({ dataset, state }, seconds);
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
