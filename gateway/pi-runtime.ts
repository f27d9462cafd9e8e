import { mkdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { Controller } from '../device/controller.ts';
import type { Extension } from '../device/extension.ts';
import type { HardwareSettings, StationSettings } from '../device/settings.ts';
import { openStationHardware } from '../device/station-hardware.ts';
import { WeatherStation } from '../device/weather-station.ts';
import type { Outbox } from './outbox.ts';
import { openOutbox } from './outbox-quarantine.ts';
import type { OutboxSettings } from './settings.ts';

export interface PiSettings {
  dataDir: string;
  station: StationSettings;
  hardware: HardwareSettings;
  outbox: OutboxSettings;
}

/** The outbox file's path: relative paths live under the data folder. */
export function outboxPath(settings: Pick<PiSettings, 'dataDir' | 'outbox'>): string {
  return isAbsolute(settings.outbox.path) ? settings.outbox.path : join(settings.dataDir, settings.outbox.path);
}

export function openPiOutbox(settings: Pick<PiSettings, 'dataDir' | 'outbox'>, log: Logger): Outbox {
  mkdirSync(settings.dataDir, { recursive: true });
  const o = settings.outbox;
  return openOutbox({
    path: outboxPath(settings),
    log,
    synchronous: o.synchronous,
    capBytes: o.capBytes,
    capPolicy: o.capPolicy,
    integrityCheck: o.integrityCheck,
    busyTimeoutMs: o.busyTimeout,
  });
}

/** The station part of a Pi process: its hardware, opened here and closed on stop, and the sampler. */
export class StationExtension implements Extension {
  readonly name = 'station';
  private close: (() => Promise<void>) | undefined;
  private station: WeatherStation | undefined;

  constructor(
    private readonly settings: PiSettings,
    private readonly outbox: Outbox,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const hardware = await openStationHardware({ station: this.settings.station, hardware: this.settings.hardware, log: this.log });
    this.close = () => hardware.close();
    this.station = new WeatherStation({
      stationId: this.settings.station.id,
      intervalMs: this.settings.station.interval,
      sensors: hardware.sensors,
      sink: this.outbox,
      log: this.log,
    });
    await this.station.start();
    this.log.info(`records go to the outbox ${this.outbox.path}`);
  }

  async stop(): Promise<void> {
    await this.station?.stop();
    await this.close?.();
  }
}

/**
 * Runs a Pi process until SIGINT or SIGTERM: the outbox, then the given extensions in order (the
 * station first), stopped in reverse and the outbox closed last, so no appended record is left
 * half-written. systemd's stop and Ctrl-C both take this path.
 */
export async function runPiProcess(
  settings: PiSettings,
  log: Logger,
  extensionsFor: (outbox: Outbox) => Extension[],
): Promise<void> {
  const outbox = openPiOutbox(settings, log);
  const controller = new Controller(extensionsFor(outbox), log);
  // Timers of the hardware layer do not hold the process open; this does, until a signal arrives.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    await controller.start();
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    log.info('stopping');
  } finally {
    await controller.stop();
    outbox.close();
    clearInterval(keepAlive);
  }
}

/** `hedgerow station`: the sampler writing to the outbox. */
export function runStation(settings: PiSettings, log: Logger): Promise<void> {
  return runPiProcess(settings, log, (outbox) => [new StationExtension(settings, outbox, log)]);
}
