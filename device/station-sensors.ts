import type { Logger } from 'pino';
import { Anemometer } from '../hardware/anemometer.ts';
import { Bme280 } from '../hardware/bme280.ts';
import { Bmp180 } from '../hardware/bmp180.ts';
import type { Clock } from '../hardware/core/clock.ts';
import { Ds18b20 } from '../hardware/ds18b20.ts';
import type { EdgeInput } from '../hardware/edge-input.ts';
import { Htu21d } from '../hardware/htu21d.ts';
import type { I2cBus } from '../hardware/i2c-bus.ts';
import { airQualityPercent, Mcp3427 } from '../hardware/mcp3427.ts';
import { RainGauge } from '../hardware/rain-gauge.ts';
import { SensorError } from '../hardware/sensor-error.ts';
import { WindVaneSampler } from '../hardware/wind-vane-sampler.ts';
import type { StationSensor } from './station-sensor.ts';

/**
 * Adapters from each hardware driver to the sampler's StationSensor: which record fields it fills and
 * how a reading maps onto them. The drivers stay free of record vocabulary.
 */

export interface SensorContext {
  bus: I2cBus;
  clock: Clock;
  log: Logger;
}

export function bme280Sensor(ctx: SensorContext, address: number | undefined): StationSensor {
  const driver = new Bme280({ bus: ctx.bus, address, clock: ctx.clock });
  return {
    name: 'bme280',
    fields: ['ambient_temperature', 'air_pressure', 'humidity'],
    open: () => driver.open(),
    read: async () => {
      const r = await driver.read();
      return { ambient_temperature: r.temperature, air_pressure: r.pressure, humidity: r.humidity };
    },
    close: () => driver.close(),
  };
}

export function htu21dSensor(ctx: SensorContext, address: number): StationSensor {
  const driver = new Htu21d({ bus: ctx.bus, address, clock: ctx.clock, log: ctx.log });
  return {
    name: 'htu21d',
    fields: ['ambient_temperature', 'humidity'],
    open: () => driver.open(),
    read: async () => {
      const r = await driver.read();
      return { ambient_temperature: r.temperature, humidity: r.humidity };
    },
    close: async () => {},
  };
}

/** On the Weather HAT the BMP180 gives pressure only: the HTU21D's temperature is the ambient one, as Oracle's code had it. */
export function bmp180Sensor(ctx: SensorContext, address: number): StationSensor {
  const driver = new Bmp180({ bus: ctx.bus, address, clock: ctx.clock });
  return {
    name: 'bmp180',
    fields: ['air_pressure'],
    open: () => driver.open(),
    read: async () => ({ air_pressure: (await driver.read()).pressure }),
    close: () => driver.close(),
  };
}

export function airQualitySensor(ctx: SensorContext, address: number): StationSensor {
  const adc = new Mcp3427({ bus: ctx.bus, address, name: 'air quality ADC (MCP3427)', clock: ctx.clock });
  return {
    name: 'air_quality',
    fields: ['air_quality'],
    open: () => adc.open(),
    read: async () => ({ air_quality: airQualityPercent((await adc.read()).raw) }),
    close: () => adc.close(),
  };
}

/** The vane is sampled all through the interval; the record gets the vector mean of those samples. */
export function windVaneSensor(ctx: SensorContext, address: number, sampleEveryMs: number): StationSensor {
  const adc = new Mcp3427({ bus: ctx.bus, address, name: 'wind vane ADC (MCP3427)', clock: ctx.clock });
  const sampler = new WindVaneSampler({ readVolts: async () => (await adc.read()).volts, clock: ctx.clock, sampleEveryMs, log: ctx.log });
  return {
    name: 'wind_vane',
    fields: ['wind_direction'],
    open: async () => {
      await adc.open();
      await sampler.start();
    },
    read: async () => {
      const d = sampler.take();
      if (d.samples === 0 && d.failed > 0) {
        throw d.lastError instanceof SensorError ? d.lastError : new SensorError('fault', 'wind vane', `every read failed: ${String(d.lastError)}`);
      }
      if (d.samples === 0 && d.unmatched > 0) {
        throw new SensorError('fault', 'wind vane', `no reading matched a direction (${d.unmatched} dropped): check the vane's cable and the 75 kΩ divider`);
      }
      return { wind_direction: d.directionDeg };
    },
    close: () => sampler.stop(),
  };
}

export function groundProbeSensor(root: string, clock: Clock, log: Logger): StationSensor {
  const probe = new Ds18b20({ root, sleep: (ms) => clock.sleep(ms), log });
  return {
    name: 'ds18b20',
    fields: ['ground_temperature'],
    open: async () => {
      await probe.findDevices();
    },
    read: async () => ({ ground_temperature: await probe.read() }),
    close: async () => {},
  };
}

export function anemometerSensor(input: EdgeInput, clock: Clock, debounceMs: number, kmhPerHz: number): StationSensor {
  const anemometer = new Anemometer({ input, clock, debounceMs, kmhPerHz });
  return {
    name: 'anemometer',
    fields: ['wind_speed', 'wind_gust_speed'],
    open: () => anemometer.start(),
    read: async () => {
      const w = anemometer.take();
      return { wind_speed: w.meanKmh, wind_gust_speed: w.gustKmh };
    },
    close: () => anemometer.stop(),
  };
}

export function rainGaugeSensor(input: EdgeInput, clock: Clock, debounceMs: number): StationSensor {
  const gauge = new RainGauge({ input, clock, debounceMs });
  return {
    name: 'rain_gauge',
    fields: ['rainfall'],
    open: () => gauge.start(),
    read: async () => ({ rainfall: gauge.take().mm }),
    close: () => gauge.stop(),
  };
}
