import type { Logger } from 'pino';
import { Bme280 } from '../hardware/bme280.ts';
import { Bmp180 } from '../hardware/bmp180.ts';
import { systemClock, type Clock } from '../hardware/core/clock.ts';
import type { EdgeInput } from '../hardware/edge-input.ts';
import { Htu21d } from '../hardware/htu21d.ts';
import { I2cError, type I2cBus } from '../hardware/i2c-bus.ts';
import { OnoffEdgeInput } from '../hardware/onoff-edge-input.ts';
import { openRealI2cBus } from '../hardware/real-i2c-bus.ts';
import { VirtualStation, type StationBuild } from '../hardware/virtual-station.ts';
import type { HardwareSettings, StationSettings } from './settings.ts';
import type { StationSensor } from './station-sensor.ts';
import {
  airQualitySensor,
  anemometerSensor,
  bme280Sensor,
  bmp180Sensor,
  groundProbeSensor,
  htu21dSensor,
  rainGaugeSensor,
  windVaneSensor,
  type SensorContext,
} from './station-sensors.ts';

export interface StationHardware {
  /** "real" or "virtual", after auto was resolved. */
  mode: 'real' | 'virtual';
  build: StationBuild;
  sensors: StationSensor[];
  /** The simulated hardware, when virtual: tests inject faults through it. */
  virtual?: VirtualStation;
  close(): Promise<void>;
}

export interface HardwareOptions {
  station: StationSettings;
  hardware: HardwareSettings;
  log: Logger;
  clock?: Clock;
  /** Opens /dev/i2c-N; tests replace it. */
  openBus?: (busNumber: number) => Promise<I2cBus>;
}

/**
 * Resolves `hardware.mode` and `station.build` into the station's sensors. `auto` uses real hardware
 * wherever an I²C bus exists and falls back to virtual devices only where there is no bus at all,
 * saying so. On a Pi a sensor that does not answer is reported missing, never simulated.
 */
export async function openStationHardware(options: HardwareOptions): Promise<StationHardware> {
  const { station, hardware, log } = options;
  const clock = options.clock ?? systemClock;
  let bus: I2cBus | undefined;
  let busError: I2cError | undefined;
  if (hardware.mode !== 'virtual') {
    try {
      bus = await (options.openBus ?? openRealI2cBus)(hardware.i2cBus);
    } catch (error) {
      if (!(error instanceof I2cError)) throw error;
      busError = error;
    }
  }

  if (hardware.mode === 'virtual' || (hardware.mode === 'auto' && bus === undefined)) {
    if (hardware.mode === 'auto') {
      log.info(`no I²C bus here (${busError?.message ?? 'none'}): using virtual hardware (set hardware.mode or --hardware to choose)`);
    }
    return openVirtual(options, clock);
  }

  if (busError) log.warn(`${busError.message}: every I²C sensor will be reported missing`);
  const realBus = bus ?? absentBus(hardware.i2cBus);
  const ctx: SensorContext = { bus: realBus, clock, log };
  const build = station.build === 'auto' ? await probeBuild(realBus, hardware, clock) : station.build;
  log.info(`hardware: real, ${build === 'bme280' ? 'BME280 build' : 'Oracle Weather HAT'} on ${realBus.name}`);
  const edge = (sensor: string, bcmPin: number): EdgeInput =>
    new OnoffEdgeInput({ sensor, bcmPin, gpioRoot: hardware.gpio.sysfsRoot, clock, log });
  const sensors = sensorSet(build, ctx, hardware, station.interval, {
    oneWireRoot: hardware.oneWireRoot,
    anemometer: edge('anemometer', hardware.gpio.anemometerPin),
    rain: edge('rain gauge', hardware.gpio.rainPin),
  });
  return { mode: 'real', build, sensors, close: () => realBus.close() };
}

async function openVirtual(options: HardwareOptions, clock: Clock): Promise<StationHardware> {
  const { station, hardware, log } = options;
  // The HAT build has every sensor, so it shows every field of a record.
  const build: StationBuild = station.build === 'auto' ? 'weather-hat' : station.build;
  const virtual = new VirtualStation({
    stationId: station.id,
    build,
    clock,
    weather: hardware.virtualWeather,
    addresses: {
      bme280: hardware.bme280Address === 'auto' ? 0x76 : hardware.bme280Address,
      htu21d: hardware.htu21dAddress,
      bmp180: hardware.bmp180Address,
      windVane: hardware.windVaneAddress,
      airQuality: hardware.airQualityAddress,
    },
    anemometerKmhPerHz: hardware.gpio.anemometerKmhPerHz,
  });
  await virtual.start();
  log.info(`hardware: virtual ${build === 'bme280' ? 'BME280 build' : 'Oracle Weather HAT'}, weather simulated for ${station.id} (${virtual.weather.site})`);
  const ctx: SensorContext = { bus: virtual.bus, clock, log };
  const sensors = sensorSet(build, ctx, hardware, station.interval, {
    oneWireRoot: virtual.oneWireRoot,
    anemometer: virtual.anemometerInput,
    rain: virtual.rainInput,
  });
  return { mode: 'virtual', build, sensors, virtual, close: () => virtual.stop() };
}

function sensorSet(
  build: StationBuild,
  ctx: SensorContext,
  hardware: HardwareSettings,
  intervalMs: number,
  io: { oneWireRoot: string; anemometer: EdgeInput; rain: EdgeInput },
): StationSensor[] {
  const climate =
    build === 'bme280'
      ? [bme280Sensor(ctx, hardware.bme280Address === 'auto' ? undefined : hardware.bme280Address)]
      : [htu21dSensor(ctx, hardware.htu21dAddress), bmp180Sensor(ctx, hardware.bmp180Address), airQualitySensor(ctx, hardware.airQualityAddress)];
  return [
    ...climate,
    ...(hardware.groundProbe ? [groundProbeSensor(io.oneWireRoot, ctx.clock, ctx.log)] : []),
    // Several vane readings per record even when the record interval is short (the 5 s demo).
    windVaneSensor(ctx, hardware.windVaneAddress, Math.min(hardware.windVaneSampleInterval, intervalMs / 5)),
    anemometerSensor(io.anemometer, ctx.clock, hardware.gpio.windDebounceMs, hardware.gpio.anemometerKmhPerHz),
    rainGaugeSensor(io.rain, ctx.clock, hardware.gpio.rainDebounceMs),
  ];
}

/** A BME280 that answers makes it the BME280 build; an HTU21D or BMP180 makes it the HAT; neither: BME280, reported missing. */
async function probeBuild(bus: I2cBus, hardware: HardwareSettings, clock: Clock): Promise<StationBuild> {
  const answers = async (open: () => Promise<void>) => open().then(() => true, () => false);
  const address = hardware.bme280Address === 'auto' ? undefined : hardware.bme280Address;
  if (await answers(() => new Bme280({ bus, address, clock }).open())) return 'bme280';
  if (await answers(() => new Htu21d({ bus, address: hardware.htu21dAddress, clock }).open())) return 'weather-hat';
  if (await answers(() => new Bmp180({ bus, address: hardware.bmp180Address, clock }).open())) return 'weather-hat';
  return 'bme280';
}

/** The bus that could not be opened in real mode: nothing answers on it, so each sensor says it is missing and how to enable I²C. */
function absentBus(busNumber: number): I2cBus {
  const name = `/dev/i2c-${busNumber}`;
  const fail = async (address: number): Promise<never> => {
    throw new I2cError('ENXIO', address, `${name} does not exist`);
  };
  return { name, write: fail, read: fail, writeRegister: fail, readRegisters: fail, close: async () => {} };
}
