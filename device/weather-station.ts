import type { Logger } from 'pino';
import { systemClock, type Clock } from '../hardware/core/clock.ts';
import { SensorError } from '../hardware/sensor-error.ts';
import { topics, type RecordSink, type SensorStatus, type WeatherRecord } from '../hardware/core/contract.ts';
import type { Extension } from '../hardware/core/extension.ts';
import { WEATHER_FIELDS, type StationSensor, type WeatherFields } from './station-sensor.ts';
import { describeRecord } from './record-line.ts';

export interface WeatherStationOptions {
  stationId: string;
  intervalMs: number;
  sensors: readonly StationSensor[];
  sink: RecordSink;
  log: Logger;
  clock?: Clock;
  /** Called after each record is stored; the CLI prints it, tests collect it. */
  onRecord?: (record: WeatherRecord) => void;
}

/**
 * The station sampler. Every interval it reads each sensor in turn (they share one I²C bus, so
 * never in parallel), builds one record and hands it to the outbox in one transaction.
 *
 * A sensor that fails never stops sampling: its fields become null, its status says why, and the
 * status change is logged once. A failed sensor is re-opened before the next record, so one that
 * comes back (a loose wire pushed home) recovers on its own.
 */
export class WeatherStation implements Extension {
  readonly name = 'station';
  private readonly clock: Clock;
  private readonly status = new Map<string, SensorStatus>();
  private readonly needsOpen = new Set<string>();
  private timer: unknown = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(private readonly options: WeatherStationOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Status of every sensor as of the last record (or the probe at start). */
  sensorStatus(): Record<string, SensorStatus> {
    return Object.fromEntries(this.status);
  }

  async start(): Promise<void> {
    this.stopped = false;
    for (const sensor of this.options.sensors) await this.open(sensor);
    const found = this.options.sensors.filter((s) => this.status.get(s.name) === 'ok').map((s) => s.name);
    this.options.log.info(
      `station ${this.options.stationId}: sensors ok: ${found.join(', ') || 'none'}; a record every ${formatInterval(this.options.intervalMs)}`,
    );
    // The first record comes one interval after start: the wind and rain counters need a whole interval.
    this.timer = this.clock.setInterval(() => this.tick(), this.options.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
    await this.running;
    for (const sensor of this.options.sensors) {
      try {
        await sensor.close();
      } catch (error) {
        this.options.log.warn({ err: error }, `${sensor.name}: close failed`);
      }
    }
  }

  /** Take one record now (used by the schedule, and by tests and `hedgerow sensors`). */
  async sample(): Promise<WeatherRecord> {
    const fields: WeatherFields = Object.fromEntries(WEATHER_FIELDS.map((f) => [f, null])) as WeatherFields;
    for (const sensor of this.options.sensors) {
      if (this.needsOpen.has(sensor.name) && !(await this.open(sensor))) continue;
      try {
        const reading = await sensor.read();
        for (const field of sensor.fields) {
          const value = reading[field];
          fields[field] = typeof value === 'number' && Number.isFinite(value) ? value : null;
        }
        this.setStatus(sensor, 'ok');
      } catch (error) {
        this.fail(sensor, error);
      }
    }
    const record: WeatherRecord = { ts: this.clock.now(), ...fields, sensors: this.sensorStatus() };
    this.options.sink.append([
      { deviceId: this.options.stationId, topic: topics.weatherReading(this.options.stationId), record: { ...record } },
    ]);
    this.options.log.info(describeRecord(this.options.stationId, record));
    this.options.onRecord?.(record);
    return record;
  }

  private tick(): void {
    // A slow bus must not pile records up: while one record is still being taken, skip the slot.
    if (this.stopped || this.running !== null) return;
    this.running = this.sample()
      .then(() => undefined)
      .catch((error: unknown) => {
        // Only the outbox can throw here (sensor errors are statuses). Keep sampling: the next
        // append may succeed (disk full cleared), and the operator sees each failure.
        this.options.log.error({ err: error }, `station ${this.options.stationId}: record not stored`);
      })
      .finally(() => {
        this.running = null;
      });
  }

  private async open(sensor: StationSensor): Promise<boolean> {
    try {
      await sensor.open();
      this.needsOpen.delete(sensor.name);
      this.setStatus(sensor, 'ok');
      return true;
    } catch (error) {
      this.fail(sensor, error);
      return false;
    }
  }

  private fail(sensor: StationSensor, error: unknown): void {
    this.needsOpen.add(sensor.name);
    if (error instanceof SensorError) {
      this.setStatus(sensor, error.kind === 'missing' ? 'missing' : `fault: ${error.message}`, error.message);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      this.setStatus(sensor, `fault: ${message}`, message);
    }
  }

  private setStatus(sensor: StationSensor, status: SensorStatus, detail?: string): void {
    const previous = this.status.get(sensor.name);
    this.status.set(sensor.name, status);
    if (previous === status) return;
    if (status === 'ok') {
      if (previous !== undefined) this.options.log.info(`${sensor.name}: recovered`);
    } else {
      this.options.log.warn(`${sensor.name}: ${detail ?? status}`);
    }
  }
}

function formatInterval(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}
