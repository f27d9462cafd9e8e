import type { Logger } from 'pino';
import { systemClock } from '../../hardware/core/clock.ts';
import type { Extension } from '../../hardware/core/extension.ts';
import { describeAlert } from '../dashboard/weather-alerts.ts';
import { timeFormat } from '../dashboard/weather-format.ts';
import { StoreWeatherSource, type StoreWeatherSourceOptions, type WeatherSource } from '../dashboard/weather-source.ts';
import type { WeatherPageSettings } from '../dashboard/weather-page-settings.ts';
import type { Engine } from '../engine/engine.ts';
import type { EngineClock } from '../engine/engine-context.ts';
import type { CloudMqttSettings, CloudSettings } from '../settings.ts';
import { AlertDelivery } from './alert-delivery.ts';
import { checkSilence, emptyState, evaluateRecord, type AlertChange, type EvaluationRules, type StationState } from './alert-evaluator.ts';
import type { AlertEvent } from './alert-model.ts';
import type { AlertOutput } from './alert-output.ts';
import { thresholdsFor, type AlertSettings } from './alert-settings.ts';
import { AlertStore, type QueuedEvent } from './alert-store.ts';
import { DatasetOutput } from './dataset-output.ts';
import { MqttAlertOutput } from './mqtt-output.ts';
import { NtfyOutput } from './ntfy-output.ts';
import { WebhookOutput } from './webhook-output.ts';

/**
 * The alert engine, an Extension started after the analytics engine: every evaluateEverySeconds it
 * walks each station's new records from its cursor (through the WeatherSource), turns alert changes
 * into events, and commits cursor, alerts and outbox rows in one transaction; AlertDelivery sends them.
 */

/** Records read per station per query; a backfilled week takes a few batches. */
const BATCH = 2000;
/** Most stations evaluated (the page shows at most a few dozen). */
const MAX_STATIONS = 1000;

export interface AlertEngineOptions {
  settings: AlertSettings;
  /** The engine's data folder (cloud.dataDir): alerts.sqlite lives beside the datastores. */
  dataDir: string;
  /** The weather datastore, read-only; closed on stop. */
  source: Pick<WeatherSource, 'stationIds' | 'recordsSince' | 'close'>;
  /** Where the alerts dataset's events go (the engine's BatchPutMessage). */
  engine: Pick<Engine, 'batchPutMessage'>;
  /** The engine's broker (cloud.mqtt); alerts are published there when alerts.mqtt.enabled and cloud.mqtt.enabled. */
  mqtt: CloudMqttSettings;
  log: Logger;
  /** Default: the system clock. */
  clock?: EngineClock;
  /** Time zone of the times in alert texts (weatherPage.timeZone). Default: the server's. */
  timeZone?: string;
  /** Jitter source of retry delays. Default Math.random. */
  random?: () => number;
}

export class AlertEngine implements Extension {
  readonly name = 'alerts';
  private store: AlertStore | undefined;
  private delivery: AlertDelivery | undefined;
  private outputs: AlertOutput[] = [];
  private timer: unknown;
  private running: Promise<void> | undefined;
  private readonly clock: EngineClock;
  private readonly time: (ms: number) => string;

  constructor(private readonly options: AlertEngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.time = timeFormat(options.timeZone).clock;
  }

  /** The store, while started (tests read alerts and outbox counts from it). */
  get alertStore(): AlertStore {
    if (!this.store) throw new Error('the alert engine is not started');
    return this.store;
  }

  async start(): Promise<void> {
    const { settings, log } = this.options;
    const timeoutMs = settings.delivery.timeoutMs;
    this.store = new AlertStore(this.options.dataDir);
    this.outputs = [new DatasetOutput(this.options.engine, settings.channelName)];
    if (settings.mqtt.enabled && this.options.mqtt.enabled) {
      const onError = (err: Error) => log.warn({ err }, 'alerts MQTT connection error; retrying');
      const onConnect = () => {
        this.store?.dueNow('mqtt', this.clock.now());
        this.delivery?.kick();
      };
      this.outputs.push(new MqttAlertOutput(this.options.mqtt, settings.mqtt.topicPrefix, timeoutMs, onError, onConnect));
    }
    if (settings.ntfy) this.outputs.push(new NtfyOutput(settings.ntfy, timeoutMs));
    if (settings.webhook) this.outputs.push(new WebhookOutput(settings.webhook, timeoutMs));
    this.delivery = new AlertDelivery(this.store, this.outputs, this.clock, settings.delivery, log, this.options.random);
    this.delivery.start();
    log.info({ outputs: this.outputs.map((o) => o.name), everySeconds: settings.evaluateEverySeconds }, 'evaluating station records for alerts');
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const store = this.store;
    this.store = undefined;
    await this.running;
    await this.delivery?.stop();
    for (const output of this.outputs) await output.close?.();
    this.outputs = [];
    await this.options.source.close();
    store?.close();
  }

  /** Evaluates now (tests; the timer calls it too); resolves when this evaluation and any running one are done. */
  async evaluateNow(): Promise<void> {
    if (this.running) await this.running;
    this.running = this.evaluate().finally(() => {
      this.running = undefined;
    });
    await this.running;
  }

  /** Resolves once no evaluation and no delivery is running (tests). */
  async idle(): Promise<void> {
    await this.running;
    await this.delivery?.idle();
  }

  private schedule(ms: number): void {
    this.timer = this.clock.setTimeout(() => {
      this.evaluateNow()
        .catch((err: unknown) => this.options.log.error({ err }, 'alerts: evaluation failed; trying again at the next interval'))
        .finally(() => {
          if (this.store) this.schedule(this.options.settings.evaluateEverySeconds * 1000);
        });
    }, ms);
  }

  private async evaluate(): Promise<void> {
    const { settings, source } = this.options;
    let queuedAny = false;
    for (const stationId of await source.stationIds(MAX_STATIONS)) {
      const store = this.store;
      if (!store) return;
      const state = store.stationState(stationId) ?? emptyState();
      const rules = (): EvaluationRules => ({
        thresholds: thresholdsFor(settings, stationId),
        hysteresis: settings.hysteresis,
        notifyFrom: this.clock.now() - settings.notifyWithinMinutes * 60_000,
      });
      for (;;) {
        const records = await source.recordsSince(stationId, state.cursor, BATCH);
        if (records.length === 0 || !this.store) break;
        const r = rules();
        const changes = records.flatMap((record) => evaluateRecord(state, stationId, record, r));
        queuedAny = this.commit(stationId, state, changes) || queuedAny;
        if (records.length < BATCH) break;
      }
      if (!this.store) return;
      queuedAny = this.commit(stationId, state, checkSilence(state, stationId, this.clock.now(), rules())) || queuedAny;
    }
    if (queuedAny) this.delivery?.kick();
  }

  /** Saves one station's progress with its events; true when something was queued. */
  private commit(stationId: string, state: StationState, changes: AlertChange[]): boolean {
    const queued: QueuedEvent[] = changes.map((change) => {
      const event = this.eventOf(change);
      return { event, destinations: this.outputs.filter((o) => o.wants(event)).map((o) => o.name) };
    });
    this.store!.commit(stationId, state, changes, queued, this.clock.now());
    for (const { event } of queued) {
      const a = event.alert;
      // History found in a backfill is many lines of old news: only alerts people are told about are worth an info line.
      const level = a.notify ? 'info' : 'debug';
      this.options.log[level]({ stationId, kind: a.kind, type: event.type, at: event.at, notify: a.notify }, `alert ${event.type}: ${stationId} ${event.headline}`);
    }
    return queued.length > 0;
  }

  private eventOf({ type, alert }: AlertChange): AlertEvent {
    const at = type === 'start' ? alert.startedAt : alert.endedAt!;
    return { eventId: `${alert.id}/${type}`, type, at, alert, ...describeAlert(alert, this.time) };
  }
}

/** The alert engine of `hedgerow cloud`: the engine's data folder, broker and weather datastore, the page's time zone. */
export function alertEngineFor(parts: {
  alerts: AlertSettings;
  cloud: CloudSettings;
  page: Pick<WeatherPageSettings, 'datastoreName' | 'timeZone'>;
  engine: Pick<Engine, 'batchPutMessage'>;
  /** The engine's store, which the weather datastore is read through. */
  store: StoreWeatherSourceOptions['store'];
  log: Logger;
  clock: EngineClock | undefined;
}): AlertEngine {
  const { alerts, cloud, page, engine, store, log, clock } = parts;
  return new AlertEngine({
    settings: alerts,
    dataDir: cloud.dataDir,
    source: new StoreWeatherSource({ store, datastoreName: page.datastoreName }),
    engine,
    mqtt: cloud.mqtt,
    log,
    ...(clock ? { clock } : {}),
    ...(page.timeZone ? { timeZone: page.timeZone } : {}),
  });
}
