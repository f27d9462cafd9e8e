import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { z } from 'zod';
import { I2cError } from '../../hardware/i2c-bus.ts';
import type { WeatherRecord } from '../../hardware/core/contract.ts';
import { parseSettings } from '../../hardware/core/config-file.ts';
import { hardwareSettings, stationSettings } from '../../device/settings.ts';
import { openStationHardware, type StationHardware } from '../../device/station-hardware.ts';
import { WeatherStation } from '../../device/weather-station.ts';
import { MemorySink } from '../fixtures/record-sink.ts';
import { ManualClock } from '../hardware/manual-clock.ts';

const log = pino({ level: 'silent' });
const schema = z.object({ station: stationSettings.prefault({}), hardware: hardwareSettings.prefault({}) });

let open: { hardware: StationHardware; station: WeatherStation } | undefined;
afterEach(async () => {
  await open?.station.stop();
  await open?.hardware.close();
  open = undefined;
});

async function station(raw: unknown, extra: Partial<Parameters<typeof openStationHardware>[0]> = {}) {
  const settings = parseSettings(schema, raw, 'test');
  const hardware = await openStationHardware({ ...settings, log, ...extra });
  const sink = new MemorySink();
  const s = new WeatherStation({ stationId: settings.station.id, intervalMs: 3_600_000, sensors: hardware.sensors, sink, log });
  await s.start();
  open = { hardware, station: s };
  return { hardware, station: s, sink };
}

const virtualHat = { station: { id: 'north-field', build: 'weather-hat' }, hardware: { mode: 'virtual', windVaneSampleInterval: '50ms' } };

describe('station on virtual hardware through the real drivers', () => {
  it('fills every field of the Weather HAT build with believable weather', async () => {
    const { station: s, hardware } = await station(virtualHat);
    expect(hardware.mode).toBe('virtual');
    await new Promise((r) => setTimeout(r, 400));
    const r = await s.sample();
    expect(Object.values(r.sensors).every((v) => v === 'ok')).toBe(true);
    expect(Object.keys(r.sensors).sort()).toEqual(['air_quality', 'anemometer', 'bmp180', 'ds18b20', 'htu21d', 'rain_gauge', 'wind_vane']);
    const w = hardware.virtual!.weather.weatherAt(r.ts);
    expect(r.ambient_temperature).toBeCloseTo(w.temperature, 0);
    expect(r.air_pressure).toBeCloseTo(w.pressure, 0);
    expect(r.humidity!).toBeGreaterThanOrEqual(0);
    expect(r.humidity!).toBeLessThanOrEqual(100);
    expect(r.ground_temperature).toBeCloseTo(w.groundTemperature, 0);
    expect(r.air_quality).toBeCloseTo(w.airQuality, 0);
    // The vane reports one of the 16 compass points nearest the model's direction, vector-averaged.
    const diff = Math.abs(((r.wind_direction! - w.windDirectionDeg + 540) % 360) - 180);
    expect(diff).toBeLessThanOrEqual(11.25 + 1);
    expect(r.wind_speed).not.toBeNull();
    expect(r.rainfall).not.toBeNull();
  });

  it('shows each injected fault as a clear status while the other fields stay valid, then recovers', async () => {
    const { station: s, hardware } = await station(virtualHat);
    const v = hardware.virtual!;

    v.htu21d!.setFault('bad-crc');
    let r = await s.sample();
    expect(r.sensors.htu21d).toMatch(/^fault: HTU21D .*CRC/);
    expect(r.ambient_temperature).toBeNull();
    expect(r.humidity).toBeNull();
    expect(r.air_pressure).not.toBeNull();
    expect(r.ground_temperature).not.toBeNull();

    v.htu21d!.setFault(null);
    v.bus.injectFault(0x77, 'no-ack');
    r = await s.sample();
    expect(r.sensors.htu21d).toBe('ok');
    expect(r.ambient_temperature).not.toBeNull();
    expect(r.sensors.bmp180).toBe('missing');
    expect(r.air_pressure).toBeNull();

    v.bus.injectFault(0x77, null);
    v.bus.injectFault(0x6a, 'eio-mid-read');
    await v.groundProbe.setFault('crc');
    r = await s.sample();
    expect(r.sensors.bmp180).toBe('ok');
    expect(r.sensors.air_quality).toMatch(/^fault: .*I\/O error at 0x6a/);
    expect(r.air_quality).toBeNull();
    expect(r.sensors.ds18b20).toMatch(/^fault: DS18B20/);
    expect(r.ground_temperature).toBeNull();
    expect(r.air_pressure).not.toBeNull();

    v.bus.injectFault(0x6a, null);
    await v.groundProbe.setFault(null);
    r = await s.sample();
    expect(Object.values(r.sensors).every((x) => x === 'ok')).toBe(true);
    expect(r.air_quality).not.toBeNull();
    expect(r.ground_temperature).not.toBeNull();
  });

  it('a stuck bus faults every I²C sensor but not the GPIO and 1-Wire ones', async () => {
    const { station: s, hardware } = await station(virtualHat);
    hardware.virtual!.bus.injectFault(0x40, 'stuck-bus');
    const r = await s.sample();
    for (const name of ['htu21d', 'bmp180', 'air_quality']) expect(r.sensors[name]).toMatch(/^fault: .*timed out/);
    expect(r.sensors.ds18b20).toBe('ok');
    expect(r.sensors.anemometer).toBe('ok');
    expect(r.ground_temperature).not.toBeNull();
  });

  it('runs the BME280 build and names a BMP280 answering in its place', async () => {
    const { station: s, hardware } = await station({ station: { build: 'bme280' }, hardware: { mode: 'virtual' } });
    let r: WeatherRecord = await s.sample();
    expect(hardware.build).toBe('bme280');
    expect(r.sensors.bme280).toBe('ok');
    expect(r.air_pressure).toBeGreaterThan(900);
    expect(r.air_quality).toBeNull();
    expect(r.sensors.air_quality).toBeUndefined();

    hardware.virtual!.bme280!.setChipId(0x58);
    await hardware.sensors.find((x) => x.name === 'bme280')!.close();
    r = await s.sample();
    expect(r.sensors.bme280).toMatch(/BMP280 found at 0x76.*use a BME280/);
    expect(r.humidity).toBeNull();
  });
});

describe('the anemometer factor setting', () => {
  it.each([undefined, 2.4])('gives the weather model\'s wind speed on virtual hardware with hardware.gpio.anemometerKmhPerHz %s', async (kmhPerHz) => {
    const start = Date.UTC(2025, 1, 10, 12);
    const clock = new ManualClock(start);
    const raw = { ...virtualHat, hardware: { ...virtualHat.hardware, gpio: kmhPerHz === undefined ? {} : { anemometerKmhPerHz: kmhPerHz } } };
    const settings = parseSettings(schema, raw, 'test');
    const hardware = await openStationHardware({ ...settings, log, clock });
    try {
      const anemometer = hardware.sensors.find((sensor) => sensor.name === 'anemometer')!;
      await anemometer.open();
      clock.advance(10 * 60_000);
      const { wind_speed: speed } = await anemometer.read();
      let truth = 0;
      for (let t = start; t < start + 10 * 60_000; t += 100) truth += hardware.virtual!.weather.weatherAt(t).windSpeedKmh / 6000;
      expect(truth).toBeGreaterThan(1);
      // Both sides use the setting: off by its ratio (2×) if only one did.
      expect(Math.abs(speed! - truth) / truth).toBeLessThan(0.05);
      await anemometer.close();
    } finally {
      await hardware.close();
    }
  });
});

describe('real hardware mode', () => {
  it('reports every sensor missing with the fix when the I²C bus does not exist, and never fakes a value', async () => {
    const noBus = async (n: number) => {
      throw new I2cError('ENOENT', -1, `/dev/i2c-${n} not found: is I²C enabled (sudo raspi-config nonint do_i2c 0)?`);
    };
    const { station: s, hardware } = await station(
      { station: { build: 'auto' }, hardware: { mode: 'real', oneWireRoot: '/nonexistent/w1', gpio: { sysfsRoot: '/nonexistent/gpio' } } },
      { openBus: noBus },
    );
    expect(hardware.mode).toBe('real');
    const r = await s.sample();
    expect(r.sensors.bme280).toBe('missing');
    expect(r.sensors.ds18b20).toBe('missing');
    expect(r.sensors.wind_vane).toBe('missing');
    for (const field of ['ambient_temperature', 'air_pressure', 'humidity', 'ground_temperature', 'wind_direction', 'wind_speed', 'rainfall'] as const) {
      expect(r[field]).toBeNull();
    }
  });

  it('auto falls back to virtual hardware only where no bus exists at all', async () => {
    const noBus = async () => {
      throw new I2cError('ENOENT', -1, '/dev/i2c-1 not found');
    };
    const { hardware } = await station({ hardware: { mode: 'auto' } }, { openBus: noBus });
    expect(hardware.mode).toBe('virtual');
  });
});
