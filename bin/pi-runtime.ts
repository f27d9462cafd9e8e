import type { Logger } from 'pino';
import type { RecordSink } from '../hardware/core/contract.ts';
import { lazyExtension, type Extension } from '../hardware/core/extension.ts';
import type { MuseumBox } from '../device/museum-box.ts';
import type { MuseumSettings } from '../device/museum-settings.ts';
import type { HardwareSettings, StationSettings } from '../device/settings.ts';
import type { WeatherStation } from '../device/weather-station.ts';
import type { VirtualWeather } from '../hardware/virtual-weather.ts';
import { createBrokerExtension, createGatewayExtensions, OutboxExtension, outboxPath } from '../gateway/gateway.ts';
import type { BrokerSettings, GatewaySettings, UplinkSettings } from '../gateway/settings.ts';
import { VirtualWeatherControl } from './virtual-weather-control.ts';
import { RecordHealth, type ServiceHealth } from './systemd-service.ts';

export interface PiSettings extends GatewaySettings {
  dataDir: string;
  station: StationSettings;
  hardware: HardwareSettings;
  museum: MuseumSettings;
}

/** The station part of a Pi process: its hardware, opened on start and closed on stop, and the sampler. */
export class StationExtension implements Extension {
  readonly name = 'station';
  private close: (() => Promise<void>) | undefined;
  private station: WeatherStation | undefined;
  private weather: VirtualWeather | undefined;
  /** Records stored lately: what the systemd watchdog's pings depend on. */
  private readonly health: RecordHealth;

  constructor(
    private readonly settings: PiSettings,
    private readonly sink: () => RecordSink & { path: string },
    private readonly log: Logger,
  ) {
    this.health = new RecordHealth(settings.station.interval);
  }

  async start(): Promise<void> {
    // Loaded at start: a process without a station (`hedgerow gateway`, `box`) never holds the drivers or i2c-bus's addon.
    const [{ openStationHardware }, { WeatherStation }] = await Promise.all([import('../device/station-hardware.ts'), import('../device/weather-station.ts')]);
    const hardware = await openStationHardware({ station: this.settings.station, hardware: this.settings.hardware, log: this.log });
    this.close = () => hardware.close();
    this.weather = hardware.virtual?.weather;
    const outbox = this.sink();
    this.station = new WeatherStation({
      stationId: this.settings.station.id,
      intervalMs: this.settings.station.interval,
      sensors: hardware.sensors,
      sink: outbox,
      log: this.log,
      onRecord: () => this.health.stored(),
    });
    this.health.started();
    await this.station.start();
    this.log.info(`records go to the outbox ${outbox.path}`);
  }

  /** What `hedgerow station` tells systemd: it is healthy while records reach the outbox. */
  serviceHealth(): ServiceHealth {
    const every = `a record every ${this.settings.station.interval / 1000} s`;
    return {
      started: () => `sampling, ${every}; waiting for the first record`,
      problem: (now) => this.health.problem(now),
      status: () => {
        const at = this.health.lastStoredAt;
        return at === undefined ? `sampling, ${every}; waiting for the first record` : `sampling, ${every}; last record stored ${new Date(at).toISOString()}`;
      },
    };
  }

  /** The weather model of a virtual station, once started; undefined on real hardware. */
  get virtualWeather(): VirtualWeather | undefined {
    return this.weather;
  }

  async stop(): Promise<void> {
    await this.station?.stop();
    await this.close?.();
    this.weather = undefined;
  }
}

export interface PiParts {
  /** Sample the sensors (`hedgerow station`, `start`). */
  station: boolean;
  /** Drain the outbox to the broker (`hedgerow gateway`, `station` unless --no-uplink, `start`). */
  uplink: boolean;
  /** Run the embedded broker in this process (`start`). */
  broker: boolean;
  /** Extensions that must start after the broker and before the uplink, e.g. the cloud's subscriber. */
  afterBroker?: Extension[];
  /** Run the museum box (`hedgerow box`, and `station` / `start` when museum.enabled). */
  museum?: boolean;
  /** The embedded broker runs in this process, started by this set or an earlier one (default: `broker`). */
  embeddedBroker?: boolean;
  /** Several stations in one process (the demo): their log lines name the station. */
  labelStation?: boolean;
}

/**
 * The extensions of one Pi process, in start order: the outbox first and closed last, so no appended
 * record is left half-written; then the broker, whatever must subscribe before data flows, the uplink,
 * and the record producers last, so nothing is produced before there is somewhere for it to go.
 */
export function piExtensions(settings: PiSettings, log: Logger, parts: PiParts): Extension[] {
  const own = parts.labelStation ? log.child({ station: settings.station.id }) : log;
  const outbox = new OutboxExtension(settings.outbox, outboxPath(settings.outbox, settings.dataDir), own.child({ part: 'outbox' }));
  const sink = () => outbox.outbox;
  const uplink = { ...settings.uplink, enabled: parts.uplink && settings.uplink.enabled };
  const gateway = createGatewayExtensions(
    { ...settings, uplink: (parts.embeddedBroker ?? parts.broker) ? towardsEmbeddedBroker(uplink, settings.broker) : uplink },
    { log: own, dataDir: settings.dataDir, thing: settings.station.id, broker: false, outbox: sink },
  );
  const station = parts.station ? new StationExtension(settings, sink, own) : undefined;
  return [
    outbox,
    ...(parts.broker ? [createBrokerExtension(settings.broker, log)] : []),
    ...(parts.afterBroker ?? []),
    ...gateway,
    ...(station ? [station] : []),
    // A virtual station with an uplink takes weather changes over MQTT from the same broker.
    ...(station && uplink.enabled
      ? [new VirtualWeatherControl({ stationId: settings.station.id, uplink: settings.uplink, weather: () => station.virtualWeather, log: own })]
      : []),
    ...(parts.museum ? museumExtensions(settings, sink, own) : []),
  ];
}

/**
 * The embedded broker (aedes) speaks MQTT 3.1.1 only: an uplink sent to it on `auto` would try 5, be
 * refused ("Unacceptable protocol version") and fall back at every start. Aimed at it, it starts on 3.1.1.
 */
function towardsEmbeddedBroker(uplink: UplinkSettings, broker: BrokerSettings): UplinkSettings {
  if (uplink.protocolVersion !== 'auto') return uplink;
  const url = new URL(uplink.url);
  const port = Number(url.port || 1883);
  const local = ['127.0.0.1', 'localhost', '[::1]', broker.host].includes(url.hostname);
  return url.protocol === 'mqtt:' && local && port === broker.port ? { ...uplink, protocolVersion: 4 } : uplink;
}

/**
 * The museum box, built at start: its collection is read (or the demo made) and its reader probed then.
 * Beside it the follower, which keeps followed collections up to date and has the box reload the one it plays.
 */
function museumExtensions(settings: PiSettings, sink: () => RecordSink, log: Logger): Extension[] {
  const museumLog = log.child({ part: 'museum' });
  let box: MuseumBox | undefined;
  const museum = lazyExtension('museum', async () => {
    const { createMuseumBox } = await import('../device/museum-setup.ts');
    box = await createMuseumBox(settings.museum, { log: museumLog, sink: sink(), dataDir: settings.dataDir });
    return box;
  });
  const follower = lazyExtension('collection-follower', async () => {
    const [{ CollectionFollower }, { collectionsDirOf }] = await Promise.all([import('../device/collection-follower.ts'), import('../device/museum-collections-dir.ts')]);
    return new CollectionFollower({
      collectionsDir: collectionsDirOf(settings.museum),
      intervalMs: settings.museum.exchange.follow.intervalSeconds * 1000,
      log: museumLog,
      onReplaced: async (dir) => {
        await box?.reloadCollection(dir);
      },
    });
  });
  return [museum, follower];
}
