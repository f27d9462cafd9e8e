import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Extension } from '../../hardware/core/extension.ts';
import { LambdaHost } from './activities/lambda-host.ts';
import { Channels } from './channels.ts';
import { DatasetContents } from './dataset-contents.ts';
import { DatasetScheduler } from './dataset-scheduler.ts';
import { Datasets } from './datasets.ts';
import { Datastores } from './datastores.ts';
import { EngineMetrics } from './engine-metrics.ts';
import type * as E from './engine.ts';
import { systemClock } from '../../hardware/core/clock.ts';
import type { EngineClock, EngineContext } from './engine-context.ts';
import { ServiceUnavailableException } from './errors.ts';
import { MqttSubscriber } from '../ingest/mqtt-subscriber.ts';
import { useTokenKey } from './pagination.ts';
import { Pipelines } from './pipelines.ts';
import { Reprocessing } from './reprocessing.ts';
import { applyResourceFile } from './resource-file.ts';
import { RetentionSweeper } from './retention-sweeper.ts';
import { RuleIngest } from '../ingest/rule-ingest.ts';
import type { CloudSettings } from '../settings.ts';
import type { CloudStore } from '../storage/cloud-store.ts';
import { createStore } from '../storage/storage-setting.ts';
import { Tags } from './tags.ts';
import { loadTokenKey } from './token-key.ts';
import { ThingRegistry } from './thing-registry.ts';
import { TopicRules } from '../ingest/topic-rules.ts';

/**
 * The IoT Analytics engine: implements Engine (one method per API operation) and Extension (start
 * opens the store, compiles pipelines and rules, creates the default resources, and starts the
 * scheduler, the retention sweeper and the MQTT subscriber; stop undoes it in reverse).
 */

export interface AnalyticsEngineOptions {
  /** The parsed `cloud:` section (cloud/settings.ts). */
  settings: CloudSettings;
  log: Logger;
  /** Default: the store settings.storage names (SQLite files in settings.dataDir unless set). */
  store?: CloudStore;
  /** Default: the system clock, whose timers do not hold the process open. */
  clock?: EngineClock;
  newId?: () => string;
  /** Builds dataURI values; the REST layer passes one that signs. Default: `/content/<dataset>/<version>/<entry>`. */
  contentUrl?: E.ContentUrlBuilder;
  /**
   * Runs once the resources exist, before the datasets' first runs and before MQTT ingest starts: data
   * put in here (the demo's backfill, through batchPutMessage) is in the first content. Default none.
   */
  beforeFirstRuns?: (engine: E.Engine) => Promise<void>;
}

interface Parts {
  ctx: EngineContext;
  lambdas: LambdaHost;
  things: ThingRegistry;
  channels: Channels;
  pipelines: Pipelines;
  reprocessing: Reprocessing;
  datastores: Datastores;
  datasets: Datasets;
  contents: DatasetContents;
  scheduler: DatasetScheduler;
  sweeper: RetentionSweeper;
  tags: Tags;
  rules: TopicRules;
  ingest: RuleIngest;
  subscriber: MqttSubscriber | undefined;
}

const defaultContentUrl: E.ContentUrlBuilder = (ref) =>
  `/content/${encodeURIComponent(ref.datasetName)}/${encodeURIComponent(ref.versionId)}/${encodeURIComponent(ref.entryName)}`;

export class AnalyticsEngine implements E.Engine, Extension {
  readonly name = 'cloud-engine';
  private parts: Parts | undefined;
  private releaseTokenKey: (() => void) | undefined;

  constructor(private readonly options: AnalyticsEngineOptions) {}

  private get p(): Parts {
    if (!this.parts) throw new ServiceUnavailableException('The engine is not running; start it (hedgerow cloud) and retry.');
    return this.parts;
  }

  async start(): Promise<void> {
    const o = this.options;
    const { queryConcurrency: concurrency, queryResultMaxRows: maxRows, queryResultMaxBytes: maxBytes } = o.settings;
    const store = o.store ?? await createStore(o.settings.storage, o.settings.dataDir, { concurrency, maxRows, maxBytes });
    await store.open();
    this.releaseTokenKey = useTokenKey(loadTokenKey(o.settings.dataDir));
    const ctx: EngineContext = {
      settings: o.settings,
      log: o.log,
      store,
      clock: o.clock ?? systemClock,
      newId: o.newId ?? randomUUID,
      contentUrl: o.contentUrl ?? defaultContentUrl,
      // The ingest is built below, and a scrape comes only after start.
      metrics: new EngineMetrics({ ingestStats: () => ingest.stats() }),
    };
    const lambdas = new LambdaHost({ dir: o.settings.lambdaDir, timeoutMs: o.settings.lambdaTimeoutMs, log: o.log });
    const things = new ThingRegistry(ctx);
    const datastores = new Datastores(ctx);
    const pipelines: Pipelines = new Pipelines(ctx, {
      lambdas,
      things,
      writeDatastore: (name, messages, arrival) => datastores.write(name, messages, arrival),
      reprocessingSummaries: (name) => reprocessing.summaries(name),
    });
    const reprocessing = new Reprocessing(ctx, pipelines);
    const channels = new Channels(ctx, pipelines);
    const datastoreNames = () => datastores.names();
    const datasets = new Datasets(ctx, datastoreNames);
    const contents = new DatasetContents(ctx, datasets, datastoreNames);
    const scheduler = new DatasetScheduler(ctx, contents, () => datasets.all());
    const rules = new TopicRules(ctx);
    const ingest = new RuleIngest(ctx, rules, channels, things);
    const subscriber = o.settings.mqtt.enabled ? new MqttSubscriber(ctx, ingest) : undefined;
    datasets.onChange = (name) => void scheduler.refresh(name);
    contents.onSucceeded = (name) => void scheduler.triggeredBy(name);
    rules.onChange = () => subscriber?.refresh();
    const sweeper = new RetentionSweeper(ctx, contents);
    const parts: Parts = { ctx, lambdas, things, channels, pipelines, reprocessing, datastores, datasets, contents, scheduler, sweeper, tags: new Tags(ctx), rules, ingest, subscriber };
    try {
      await things.load();
      await pipelines.load();
      await rules.load();
      await reprocessing.recover();
      this.parts = parts;
      for (const file of o.settings.resourceFiles) await applyResourceFile(this, file, o.log);
      await o.beforeFirstRuns?.(this);
      await scheduler.start();
      await this.runDatasetsWithoutContent(parts);
      await sweeper.start();
      await subscriber?.start();
    } catch (error) {
      this.parts = undefined;
      await scheduler.stop();
      await sweeper.stop();
      await store.close();
      this.releaseTokenKey?.();
      throw error;
    }
  }

  async stop(): Promise<void> {
    const parts = this.parts;
    if (!parts) return;
    await parts.subscriber?.stop();
    await parts.scheduler.stop();
    await parts.sweeper.stop();
    await parts.reprocessing.idle();
    // A long dataset query must not hold up shutdown: it fails, and its schedule runs it again.
    await parts.ctx.store.cancelQueries();
    await parts.contents.idle();
    this.parts = undefined;
    await parts.lambdas.stop();
    await parts.ctx.store.close();
    this.releaseTokenKey?.();
  }

  /**
   * A dataset with no content at all runs now, so its download exists from the first minute rather than
   * after its first schedule (up to 15 minutes for the demo's weather_daily). One whose last run failed
   * is left to its schedule: it would most likely fail again and hold up the start; so is one whose
   * datastore has not seen its attributes yet (no taps so far), which could only fail. Waits for the runs
   * (each bounded by queryTimeoutMs), so content is there when start-up says it is running.
   */
  private async runDatasetsWithoutContent(parts: Parts): Promise<void> {
    for (const record of await parts.datasets.all()) {
      const contents = await parts.ctx.store.listContents(record.name);
      if (contents.length > 0 || (await parts.datasets.awaitsData(record.definition))) continue;
      await parts.contents.start(record.name, record.definition, parts.ctx.clock.now());
    }
    await parts.contents.idle();
  }

  /** Ours, for tests and shutdown: resolves when running dataset contents, reprocessing and the retention sweep have finished. */
  async idle(): Promise<void> {
    await this.p.scheduler.idle();
    await this.p.reprocessing.idle();
    await this.p.contents.idle();
    await this.p.sweeper.idle();
  }

  /** Ours: the store the engine keeps everything in, for readers beside the API (the weather page, the alert engine). Once started. */
  get store(): CloudStore {
    return this.p.ctx.store;
  }

  /** Ours: one retention pass now (it also runs every settings.retentionSweepMs). */
  sweepRetention(): Promise<{ channelMessages: number; datastoreRows: number }> {
    return this.p.sweeper.sweep();
  }

  /** Ours: handles one MQTT message as the subscriber would (tests, and other transports). */
  handleMqttMessage(topic: string, payload: Buffer): Promise<void> {
    return this.p.ingest.handle(topic, payload);
  }

  /** Ours: resolves once the MQTT subscriber is connected and subscribed. */
  async mqttReady(): Promise<void> {
    await this.p.subscriber?.ready();
  }

  /** Ours: when the scheduler fires next (epoch ms). */
  nextScheduledRun(): number | undefined {
    return this.p.scheduler.nextFire();
  }

  createChannel = async (i: E.CreateChannelRequest) => this.p.channels.create(i);
  describeChannel = async (i: E.DescribeChannelRequest) => this.p.channels.describe(i);
  updateChannel = async (i: E.UpdateChannelRequest) => this.p.channels.update(i);
  deleteChannel = async (i: E.DeleteChannelRequest) => this.p.channels.delete(i);
  listChannels = async (i: E.ListRequest) => this.p.channels.list(i);
  batchPutMessage = async (i: E.BatchPutMessageRequest) => this.p.channels.batchPut(i);
  sampleChannelData = async (i: E.SampleChannelDataRequest) => this.p.channels.sample(i);

  createPipeline = async (i: E.CreatePipelineRequest) => this.p.pipelines.create(i);
  describePipeline = async (i: E.DescribePipelineRequest) => this.p.pipelines.describe(i);
  updatePipeline = async (i: E.UpdatePipelineRequest) => this.p.pipelines.update(i);
  deletePipeline = async (i: E.DeletePipelineRequest) => this.p.pipelines.delete(i);
  listPipelines = async (i: E.ListRequest) => this.p.pipelines.list(i);
  runPipelineActivity = async (i: E.RunPipelineActivityRequest) => this.p.pipelines.runActivity(i);
  startPipelineReprocessing = async (i: E.StartPipelineReprocessingRequest) => this.p.reprocessing.start(i);
  cancelPipelineReprocessing = async (i: E.CancelPipelineReprocessingRequest) => this.p.reprocessing.cancel(i);

  createDatastore = async (i: E.CreateDatastoreRequest) => this.p.datastores.create(i);
  describeDatastore = async (i: E.DescribeDatastoreRequest) => this.p.datastores.describe(i);
  updateDatastore = async (i: E.UpdateDatastoreRequest) => this.p.datastores.update(i);
  deleteDatastore = async (i: E.DeleteDatastoreRequest) => this.p.datastores.delete(i);
  listDatastores = async (i: E.ListRequest) => this.p.datastores.list(i);

  createDataset = async (i: E.CreateDatasetRequest) => this.p.datasets.create(i);
  describeDataset = async (i: E.DescribeDatasetRequest) => this.p.datasets.describe(i);
  updateDataset = async (i: E.UpdateDatasetRequest) => this.p.datasets.update(i);
  deleteDataset = async (i: E.DeleteDatasetRequest) => this.p.datasets.delete(i, (name) => this.p.contents.removeAll(name));
  listDatasets = async (i: E.ListRequest) => this.p.datasets.list(i);
  createDatasetContent = async (i: E.CreateDatasetContentRequest) => this.p.contents.create(i);
  getDatasetContent = async (i: E.GetDatasetContentRequest) => this.p.contents.get(i);
  deleteDatasetContent = async (i: E.DeleteDatasetContentRequest) => this.p.contents.delete(i);
  listDatasetContents = async (i: E.ListDatasetContentsRequest) => this.p.contents.list(i);
  openDatasetContent = async (ref: E.ContentRef) => this.p.contents.open(ref);

  tagResource = async (i: E.TagResourceRequest) => this.p.tags.tag(i);
  untagResource = async (i: E.UntagResourceRequest) => this.p.tags.untag(i);
  listTagsForResource = async (i: E.ListTagsForResourceRequest) => this.p.tags.list(i);
  describeLoggingOptions = async () => this.p.tags.describeLogging();
  putLoggingOptions = async (i: E.PutLoggingOptionsRequest) => this.p.tags.putLogging(i);

  createTopicRule = async (i: E.CreateTopicRuleRequest) => this.p.rules.create(i);
  replaceTopicRule = async (i: E.ReplaceTopicRuleRequest) => this.p.rules.replace(i);
  getTopicRule = async (i: { ruleName: string }) => this.p.rules.describe(i);
  deleteTopicRule = async (i: { ruleName: string }) => this.p.rules.delete(i);
  listTopicRules = async (i: E.ListRequest) => this.p.rules.list(i);
  ingestStats = () => this.p.ingest.stats();
  metrics = () => this.p.ctx.metrics;

  putThing = async (t: E.Thing) => this.p.things.put(t);
  describeThing = async (i: { thingName: string }) => this.p.things.describe(i);
  getThingShadow = async (i: { thingName: string }) => this.p.things.getShadow(i);
}
