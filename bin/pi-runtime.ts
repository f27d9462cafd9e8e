import type { Logger } from 'pino';
import type { RecordSink } from '../hardware/core/contract.ts';
import { lazyExtension, type Extension } from '../hardware/core/extension.ts';
import type { MuseumSettings } from '../device/museum-settings.ts';
import type { HardwareSettings, StationSettings } from '../device/settings.ts';
import type { WeatherStation } from '../device/weather-station.ts';
import { createBrokerExtension, createGatewayExtensions, OutboxExtension, outboxPath } from '../gateway/gateway.ts';
import type { GatewaySettings } from '../gateway/settings.ts';

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

  constructor(
    private readonly settings: PiSettings,
    private readonly sink: () => RecordSink & { path: string },
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    // Loaded at start: a process without a station (`hedgerow gateway`, `box`) never holds the drivers or i2c-bus's addon.
    const [{ openStationHardware }, { WeatherStation }] = await Promise.all([import('../device/station-hardware.ts'), import('../device/weather-station.ts')]);
    const hardware = await openStationHardware({ station: this.settings.station, hardware: this.settings.hardware, log: this.log });
    this.close = () => hardware.close();
    const outbox = this.sink();
    this.station = new WeatherStation({
      stationId: this.settings.station.id,
      intervalMs: this.settings.station.interval,
      sensors: hardware.sensors,
      sink: outbox,
      log: this.log,
    });
    await this.station.start();
    this.log.info(`records go to the outbox ${outbox.path}`);
  }

  async stop(): Promise<void> {
    await this.station?.stop();
    await this.close?.();
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
}

/**
 * The extensions of one Pi process, in start order: the outbox first and closed last, so no appended
 * record is left half-written; then the broker, whatever must subscribe before data flows, the uplink,
 * and the record producers last, so nothing is produced before there is somewhere for it to go.
 */
export function piExtensions(settings: PiSettings, log: Logger, parts: PiParts): Extension[] {
  const outbox = new OutboxExtension(settings.outbox, outboxPath(settings.outbox, settings.dataDir), log.child({ part: 'outbox' }));
  const sink = () => outbox.outbox;
  const gateway = createGatewayExtensions(
    { ...settings, uplink: { ...settings.uplink, enabled: parts.uplink && settings.uplink.enabled } },
    { log, dataDir: settings.dataDir, thing: settings.station.id, broker: false, outbox: sink },
  );
  return [
    outbox,
    ...(parts.broker ? [createBrokerExtension(settings.broker, log)] : []),
    ...(parts.afterBroker ?? []),
    ...gateway,
    ...(parts.station ? [new StationExtension(settings, sink, log)] : []),
    ...(parts.museum ? [museumExtension(settings, sink, log)] : []),
  ];
}

/** The museum box, built at start: its collection is read (or the demo made) and its reader probed then. */
function museumExtension(settings: PiSettings, sink: () => RecordSink, log: Logger): Extension {
  return lazyExtension('museum', async () => {
    const { createMuseumBox } = await import('../device/museum-setup.ts');
    return createMuseumBox(settings.museum, { log: log.child({ part: 'museum' }), sink: sink(), dataDir: settings.dataDir });
  });
}
