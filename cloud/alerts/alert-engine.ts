import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
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
import type { CloudStore } from '../storage/cloud-store.ts';
import { adoptAlertsFile } from './alert-adoption.ts';
import { AlertDelivery } from './alert-delivery.ts';
import { checkSilence, emptyState, evaluateRecord, type AlertChange, type EvaluationRules, type StationState } from './alert-evaluator.ts';
import type { AlertEvent } from './alert-model.ts';
import type { AlertOutput } from './alert-output.ts';
import { thresholdsFor, type AlertSettings } from './alert-settings.ts';
import { AlertStore, type AlertStateStore, type QueuedEvent } from './alert-store.ts';
import { DatasetOutput } from './dataset-output.ts';
import { MqttAlertOutput } from './mqtt-output.ts';
import { NtfyOutput } from './ntfy-output.ts';
import { WebhookOutput } from './webhook-output.ts';

/**
 * The alert engine, an Extension started after the analytics engine: every evaluateEverySeconds it
 * walks each station's new records from its cursor (through the WeatherSource), turns alert changes
 * into events, and commits cursor, alerts and outbox rows in one transaction; AlertDelivery sends them.
 * Several engines on one store share that state. Each pass holds the store's lease `alerts:evaluate`,
 * so one engine evaluates at a time and the next waits, then continues from its cursor; an event evaluated twice
 * anyway (a lease that expired mid-pass) has the same eventId and is queued once, by the outbox's key.
 */

/** Records read per station per query; a backfilled week takes a few batches. */
const BATCH = 2000;
/** Most stations evaluated (the page shows at most a few dozen). */
const MAX_STATIONS = 1000;
/** The evaluation lease, renewed before each station: an engine that dies mid-pass holds it up no longer than this. */
const EVALUATE_LEASE = 'alerts:evaluate';
const EVALUATE_LEASE_MS = 5 * 60_000;
/** How often an engine waiting for the evaluation lease asks again. */
const LEASE_POLL_MS = 250;

export interface AlertEngineOptions {
  settings: AlertSettings;
  /** Where the state is kept: the analytics engine's CloudStore. */
  store: AlertStateStore & Pick<CloudStore, 'importAlertState'>;
  /** The engine's data folder (cloud.dataDir): an alerts.sqlite of an older Hedgerow found there is adopted into the store. */
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
  /** This engine's name on the evaluation lease. */
  private readonly holder = randomUUID();

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
    await adoptAlertsFile(this.options.store, this.options.dataDir, log);
    this.store = new AlertStore(this.options.store);
    this.outputs = [new DatasetOutput(this.options.engine, settings.channelName)];
    if (settings.mqtt.enabled && this.options.mqtt.enabled) {
      const onError = (err: Error) => log.warn({ err }, 'alerts MQTT connection error; retrying');
      const onConnect = () => {
        void this.store?.dueNow('mqtt', this.clock.now())
          .then(() => this.delivery?.kick())
          .catch((err: unknown) => log.warn({ err }, 'alerts: could not make the MQTT deliveries due; they go at their retry time'));
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
    await store?.releaseLease(EVALUATE_LEASE, this.holder).catch(() => undefined);
  }

  /** Evaluates now (tests; the timer calls it too); resolves when this evaluation and any running one are done. */
  async evaluateNow(): Promise<void> {
    // One pass at a time in this engine: every waiter gets a pass of its own that starts after the running one.
    while (this.running) await this.running.catch(() => undefined);
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
    const store = this.store;
    if (!store) return;
    if (!(await this.takeLease(store))) return;
    try {
      await this.evaluateStations();
      await store.prune(this.clock.now());
    } finally {
      await store.releaseLease(EVALUATE_LEASE, this.holder);
    }
  }

  /**
   * Waits while another engine evaluates, then takes the lease: this pass starts from that engine's
   * cursor, so records it did not see yet are evaluated here and none twice. False once stopped.
   */
  private async takeLease(store: AlertStore): Promise<boolean> {
    let told = false;
    while (this.store === store) {
      if (await store.lease(EVALUATE_LEASE, this.holder, EVALUATE_LEASE_MS, this.clock.now())) return true;
      if (!told) this.options.log.debug('alerts: another engine is evaluating; this one evaluates after it');
      told = true;
      // Real time, not the engine clock: stop() must not wait for a fake clock to move.
      await sleep(LEASE_POLL_MS);
    }
    return false;
  }

  private async evaluateStations(): Promise<void> {
    const { settings, source } = this.options;
    let queuedAny = false;
    for (const stationId of await source.stationIds(MAX_STATIONS)) {
      const store = this.store;
      if (!store) return;
      // Renewed per station: a long pass keeps the lease, a dead engine's lapses.
      if (!(await store.lease(EVALUATE_LEASE, this.holder, EVALUATE_LEASE_MS, this.clock.now()))) return;
      const state = (await store.stationState(stationId)) ?? emptyState();
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
        queuedAny = (await this.commit(store, stationId, state, changes)) || queuedAny;
        if (records.length < BATCH) break;
      }
      if (!this.store) return;
      queuedAny = (await this.commit(store, stationId, state, checkSilence(state, stationId, this.clock.now(), rules()))) || queuedAny;
    }
    if (queuedAny) this.delivery?.kick();
  }

  /** Saves one station's progress with its events; true when something was queued. */
  private async commit(store: AlertStore, stationId: string, state: StationState, changes: AlertChange[]): Promise<boolean> {
    const queued: QueuedEvent[] = changes.map((change) => {
      const event = this.eventOf(change);
      return { event, destinations: this.outputs.filter((o) => o.wants(event)).map((o) => o.name) };
    });
    await store.commit(stationId, state, changes, queued, this.clock.now());
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
  /** The engine's store: the weather datastore is read through it, and the alert state kept in it. */
  store: StoreWeatherSourceOptions['store'] & AlertEngineOptions['store'];
  log: Logger;
  clock: EngineClock | undefined;
}): AlertEngine {
  const { alerts, cloud, page, engine, store, log, clock } = parts;
  return new AlertEngine({
    settings: alerts,
    store,
    dataDir: cloud.dataDir,
    source: new StoreWeatherSource({ store, datastoreName: page.datastoreName }),
    engine,
    mqtt: cloud.mqtt,
    log,
    ...(clock ? { clock } : {}),
    ...(page.timeZone ? { timeZone: page.timeZone } : {}),
  });
}
