import { describe, expect, it } from 'vitest';
import { Bmp180, compensatePressure, compensateTemperature, parseCalibration, rawPressure } from '../../hardware/bmp180.ts';
import type { Bmp180Calibration } from '../../hardware/bmp180.ts';
import { SensorError } from '../../hardware/sensor-error.ts';
import { VirtualBmp180 } from '../../hardware/virtual-bmp180.ts';
import { VirtualI2cBus } from '../../hardware/virtual-i2c-bus.ts';
import { rejection } from './rejection.ts';
import { SteppingClock } from './stepping-clock.ts';

/** BMP180 datasheet §3.5, calculation example. */
const EXAMPLE: Bmp180Calibration = {
  AC1: 408, AC2: -72, AC3: -14383, AC4: 32741, AC5: 32757, AC6: 23153, B1: 6190, B2: 4, MB: -32768, MC: -8711, MD: 2868,
};
const UT = 27898;
const UP = 23843;

describe('BMP180 compensation (datasheet integer algorithm)', () => {
  it("reproduces the datasheet example: UT 27898, UP 23843, oss 0 -> 15.0 °C, 69964 Pa", () => {
    const { temperature, b5 } = compensateTemperature(UT, EXAMPLE);
    expect(b5).toBe(2399);
    expect(temperature).toBe(150);
    expect(compensatePressure(UP, b5, 0, EXAMPLE)).toBe(69964);
  });

  it('parses the 22 big-endian calibration bytes from 0xAA', () => {
    const bytes = Uint8Array.of(
      0x01, 0x98, 0xff, 0xb8, 0xc7, 0xd1, 0x7f, 0xe5, 0x7f, 0xf5, 0x5a, 0x71, // AC1..AC6
      0x18, 0x2e, 0x00, 0x04, 0x80, 0x00, 0xdd, 0xf9, 0x0b, 0x34, // B1, B2, MB, MC, MD
    );
    expect(parseCalibration(bytes)).toEqual(EXAMPLE);
  });

  it('assembles UP from MSB, LSB, XLSB for each oversampling setting', () => {
    expect(rawPressure(Uint8Array.of(0x5d, 0x23, 0x00), 0)).toBe(UP);
    expect(rawPressure(Uint8Array.of(0x5d, 0x23, 0xe0), 3)).toBe((UP << 3) | 7);
  });

  it('pressure rises with UP, and temperature with UT above the pole of MC / (X1 + MD)', () => {
    let last = -Infinity;
    // X1 + MD crosses zero near UT 20285 with these constants; real readings (-40..85 °C) lie above.
    for (let ut = 22500; ut <= 45000; ut += 2500) {
      const t = compensateTemperature(ut, EXAMPLE).temperature;
      expect(t).toBeGreaterThan(last);
      last = t;
    }
    last = -Infinity;
    for (let up = 15000; up <= 45000; up += 2500) {
      const p = compensatePressure(up, 2399, 0, EXAMPLE);
      expect(p).toBeGreaterThan(last);
      last = p;
    }
  });
});

function setup(chipId?: number) {
  const clock = new SteppingClock();
  const bus = new VirtualI2cBus();
  const chip = new VirtualBmp180({ clock });
  if (chipId !== undefined) chip.setChipId(chipId);
  bus.attach(0x77, chip);
  return { clock, bus, chip, sensor: new Bmp180({ bus, clock }) };
}

const sensorError = (promise: Promise<unknown>): Promise<SensorError> => rejection(promise, SensorError);

describe('Bmp180 driver on a virtual bus', () => {
  it('reads temperature (°C) and pressure (hPa)', async () => {
    const { chip, sensor } = setup();
    chip.set({ temperature: 17.3, pressure: 1021.47 });
    const reading = await sensor.read();
    expect(reading.temperature).toBeCloseTo(17.3, 1);
    expect(reading.pressure).toBeCloseTo(1021.47, 2);
  });

  it('reports a missing sensor with the address and what to check', async () => {
    const bus = new VirtualI2cBus({ name: '/dev/i2c-1' });
    const err = await sensorError(new Bmp180({ bus, clock: new SteppingClock() }).read());
    expect(err.kind).toBe('missing');
    expect(err.message).toBe('BMP180 not found at 0x77 on /dev/i2c-1: is I²C enabled (sudo raspi-config nonint do_i2c 0)? Check the wiring and the address');
  });

  it('calls another chip at 0x77 (a BME280) a fault', async () => {
    const { sensor } = setup(0x60);
    const err = await sensorError(sensor.open());
    expect(err.kind).toBe('fault');
    expect(err.message).toContain('unexpected chip id 0x60 at 0x77');
  });

  it('turns EIO mid-read and a stuck bus into faults, and recovers', async () => {
    const { bus, chip, sensor } = setup();
    await sensor.read();
    bus.injectFault(0x77, 'eio-mid-read');
    expect((await sensorError(sensor.read())).kind).toBe('fault');
    bus.injectFault(0x77, 'stuck-bus');
    expect((await sensorError(sensor.read())).message).toMatch(/timed out/);
    bus.injectFault(0x77, 'no-ack');
    expect((await sensorError(sensor.read())).kind).toBe('missing');
    bus.injectFault(0x77, null);
    chip.set({ pressure: 990 });
    expect((await sensor.read()).pressure).toBeCloseTo(990, 2);
  });

  it('rejects an EEPROM that reads as all zeros', async () => {
    const clock = new SteppingClock();
    const bus = new VirtualI2cBus();
    const zero = Object.fromEntries(Object.keys(EXAMPLE).map((k) => [k, 0])) as unknown as Bmp180Calibration;
    bus.attach(0x77, new VirtualBmp180({ clock, calibration: zero }));
    const err = await sensorError(new Bmp180({ bus, clock }).open());
    expect(err.kind).toBe('fault');
    expect(err.message).toContain('bad calibration data');
  });

  it('gives up with a fault when a conversion never finishes', async () => {
    const clock = new SteppingClock();
    const bus = new VirtualI2cBus();
    bus.attach(0x77, new VirtualBmp180({ clock: { now: () => 0 } }));
    const err = await sensorError(new Bmp180({ bus, clock }).read());
    expect(err.kind).toBe('fault');
    expect(err.message).toMatch(/conversion did not finish at 0x77/);
  });

  it('refuses an oversampling setting the chip does not have', () => {
    expect(() => new Bmp180({ bus: new VirtualI2cBus(), oversampling: 4 as 0 })).toThrow(RangeError);
  });
});
