import { describe, expect, it } from 'vitest';
import {
  Bme280, compensateHumidity, compensatePressure, compensateTemperature, parseCalibration, parseRawData,
} from '../../hardware/bme280.ts';
import type { Bme280Calibration } from '../../hardware/bme280.ts';
import { SensorError } from '../../hardware/sensor-error.ts';
import { VirtualBme280 } from '../../hardware/virtual-bme280.ts';
import { VirtualI2cBus } from '../../hardware/virtual-i2c-bus.ts';
import { rejection } from './rejection.ts';
import { SteppingClock } from './stepping-clock.ts';

/** Bosch's worked example (BMP280 datasheet §3.12; the BME280 shares the T and P maths). */
const EXAMPLE = { T1: 27504, T2: 26435, T3: -1000, P1: 36477, P2: -10685, P3: 3024, P4: 2855, P5: 140, P6: -7, P7: 15500, P8: -14600, P9: 6000 };
const ADC_T = 519888;
const ADC_P = 415148;
/** Typical humidity trimming of a real part (the datasheet has no humidity example). */
const HUMIDITY = { H1: 75, H2: 362, H3: 0, H4: 313, H5: 50, H6: 30 };
const CAL: Bme280Calibration = { ...EXAMPLE, ...HUMIDITY };

/** The example's NVM bytes as Table 16 lays them out, LSB first, written out by hand. */
const EXAMPLE_TP_BYTES = Uint8Array.of(
  0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, // T1 27504, T2 26435, T3 -1000
  0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b, 0x27, 0x0b, 0x8c, 0x00, // P1 36477, P2 -10685, P3 3024, P4 2855, P5 140
  0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, // P6 -7, P7 15500, P8 -14600, P9 6000
  0x00, 0x4b, // reserved, H1 75
);
/** H2 362, H3 0, H4 313 (0x13 and low nibble 9), H5 50 (0x03 and high nibble 2), H6 30. */
const EXAMPLE_H_BYTES = Uint8Array.of(0x6a, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1e);

/** The datasheet's double-precision formulas (BME280 §8.1), an independent check on the integer code. */
function doublePressure(adcP: number, tFine: number, c: Bme280Calibration): number {
  let var1 = tFine / 2 - 64000;
  let var2 = (var1 * var1 * c.P6) / 32768;
  var2 = var2 + var1 * c.P5 * 2;
  var2 = var2 / 4 + c.P4 * 65536;
  var1 = ((c.P3 * var1 * var1) / 524288 + c.P2 * var1) / 524288;
  var1 = (1 + var1 / 32768) * c.P1;
  let p = 1048576 - adcP;
  p = ((p - var2 / 4096) * 6250) / var1;
  var1 = (c.P9 * p * p) / 2147483648;
  var2 = (p * c.P8) / 32768;
  return p + (var1 + var2 + c.P7) / 16;
}

function doubleHumidity(adcH: number, tFine: number, c: Bme280Calibration): number {
  let h = tFine - 76800;
  h = (adcH - (c.H4 * 64 + (c.H5 / 16384) * h)) * ((c.H2 / 65536) * (1 + (c.H6 / 67108864) * h * (1 + (c.H3 / 67108864) * h)));
  h = h * (1 - (c.H1 * h) / 524288);
  return Math.min(100, Math.max(0, h));
}

describe('BME280 compensation (datasheet integer code)', () => {
  it("reproduces Bosch's worked example: 25.08 °C, t_fine 128422, 100653.27 Pa", () => {
    const { temperature, tFine } = compensateTemperature(ADC_T, CAL);
    expect(temperature).toBe(2508);
    expect(tFine).toBe(128422);
    const pressure = compensatePressure(ADC_P, tFine, CAL) / 256;
    // The example's double result is 100653.27 Pa and its 32-bit result 100653 Pa; the 64-bit path
    // lands between them.
    expect(Math.abs(pressure - 100653.27)).toBeLessThan(0.05);
    expect(Math.round(pressure)).toBe(100653);
  });

  it('parses the calibration bytes of Table 16, including the split 12-bit H4 and H5', () => {
    expect(parseCalibration(EXAMPLE_TP_BYTES, EXAMPLE_H_BYTES)).toEqual(CAL);
    // Negative H4/H5: the sign lives in the whole bytes 0xE4 / 0xE6.
    const negative = parseCalibration(EXAMPLE_TP_BYTES, Uint8Array.of(0x6a, 0x01, 0x00, 0xff, 0xdb, 0xfe, 0xe2));
    expect(negative.H4).toBe(-5);
    expect(negative.H5).toBe(-19);
    expect(negative.H6).toBe(-30);
  });

  it('splits the 8 data bytes into 20-bit pressure and temperature and 16-bit humidity', () => {
    const raw = parseRawData(Uint8Array.of(0x65, 0x5a, 0xc0, 0x7e, 0xed, 0x00, 0x6d, 0x4c));
    expect(raw).toEqual({ adcP: ADC_P, adcT: ADC_T, adcH: 0x6d4c });
  });

  it('pressure agrees with the double formula within 1 Pa across the range', () => {
    for (const adcT of [400000, 480000, ADC_T, 560000]) {
      const { tFine } = compensateTemperature(adcT, CAL);
      for (let adcP = 250000; adcP <= 500000; adcP += 12500) {
        expect(Math.abs(compensatePressure(adcP, tFine, CAL) / 256 - doublePressure(adcP, tFine, CAL))).toBeLessThan(1);
      }
    }
  });

  it('humidity agrees with the double formula within 0.05 %RH and clips at 0 and 100', () => {
    let seen0 = false;
    let seen100 = false;
    for (const adcT of [400000, ADC_T, 560000]) {
      const { tFine } = compensateTemperature(adcT, CAL);
      for (let adcH = 0; adcH <= 65535; adcH += 1024) {
        const h = compensateHumidity(adcH, tFine, CAL) / 1024;
        expect(Math.abs(h - doubleHumidity(adcH, tFine, CAL))).toBeLessThan(0.05);
        seen0 ||= h === 0;
        seen100 ||= h === 100;
      }
    }
    expect(seen0 && seen100).toBe(true);
  });
});

function station(opts: { address?: number; at?: number; name?: string } = {}) {
  const clock = new SteppingClock();
  const bus = new VirtualI2cBus({ name: opts.name ?? 'virtual i2c-1' });
  const chip = new VirtualBme280({ clock });
  bus.attach(opts.at ?? 0x76, chip);
  const sensor = new Bme280({ bus, clock, ...(opts.address === undefined ? {} : { address: opts.address }) });
  return { clock, bus, chip, sensor };
}

const sensorError = (promise: Promise<unknown>): Promise<SensorError> => rejection(promise, SensorError);

describe('Bme280 driver on a virtual bus', () => {
  it('finds the sensor at 0x76, or at 0x77 when 0x76 is empty', async () => {
    const a = station({ at: 0x76 });
    await a.sensor.open();
    expect(a.sensor.address).toBe(0x76);
    const b = station({ at: 0x77 });
    await b.sensor.open();
    expect(b.sensor.address).toBe(0x77);
  });

  it('reads what the virtual chip was set to, fresh every time (forced mode per reading)', async () => {
    const { chip, sensor } = station();
    chip.set({ temperature: 21.5, pressure: 1002.3, humidity: 61 });
    const first = await sensor.read();
    expect(first.temperature).toBeCloseTo(21.5, 2);
    expect(first.pressure).toBeCloseTo(1002.3, 2);
    expect(first.humidity).toBeCloseTo(61, 1);
    chip.set({ temperature: -3.25, pressure: 987.6, humidity: 88 });
    const second = await sensor.read();
    expect(second.temperature).toBeCloseTo(-3.25, 2);
    expect(second.pressure).toBeCloseTo(987.6, 2);
    expect(second.humidity).toBeCloseTo(88, 1);
    expect(chip.measurements).toBe(2);
  });

  it('reports a missing sensor once with the place looked and what to check', async () => {
    const bus = new VirtualI2cBus({ name: '/dev/i2c-1' });
    const err = await sensorError(new Bme280({ bus, clock: new SteppingClock() }).read());
    expect(err.kind).toBe('missing');
    expect(err.sensor).toBe('BME280');
    expect(err.message).toBe(
      'BME280 not found at 0x76/0x77 on /dev/i2c-1: is I²C enabled (sudo raspi-config nonint do_i2c 0)? Check the wiring and the address',
    );
  });

  it('looks only at a configured address', async () => {
    const { sensor } = station({ at: 0x77, address: 0x76 });
    const err = await sensorError(sensor.open());
    expect(err.kind).toBe('missing');
    expect(err.message).toContain('not found at 0x76 on virtual i2c-1');
  });

  it('calls a BMP280 a fault and says to use a BME280', async () => {
    const { chip, sensor } = station();
    chip.setChipId(0x58);
    const err = await sensorError(sensor.open());
    expect(err.kind).toBe('fault');
    expect(err.message).toBe('BME280 BMP280 found at 0x76 on virtual i2c-1: it has no humidity sensor, use a BME280');
  });

  it('names a BMP180 answering at 0x77 (the Oracle HAT) instead of guessing', async () => {
    const { chip, sensor } = station({ at: 0x77 });
    chip.setChipId(0x55);
    const err = await sensorError(sensor.open());
    expect(err.kind).toBe('fault');
    expect(err.message).toContain('BMP180 found (chip id 0x55) at 0x77');
  });

  it('turns EIO mid-read into a fault and recovers once the fault clears', async () => {
    const { bus, chip, sensor } = station();
    await sensor.read();
    bus.injectFault(0x76, 'eio-mid-read');
    const err = await sensorError(sensor.read());
    expect(err.kind).toBe('fault');
    expect(err.message).toMatch(/I\/O error at 0x76 on virtual i2c-1 \(reading\): check the wiring/);
    bus.injectFault(0x76, null);
    chip.set({ temperature: 12 });
    expect((await sensor.read()).temperature).toBeCloseTo(12, 2);
  });

  it('reports a sensor that stops answering as missing, and picks it up again when it is back', async () => {
    const { bus, sensor } = station();
    await sensor.read();
    bus.injectFault(0x76, 'no-ack');
    expect((await sensorError(sensor.read())).kind).toBe('missing');
    expect((await sensorError(sensor.read())).kind).toBe('missing');
    bus.injectFault(0x76, null);
    await expect(sensor.read()).resolves.toHaveProperty('pressure');
  });

  it('turns a stuck bus into a fault that says to power-cycle', async () => {
    const { bus, sensor } = station();
    bus.injectFault(0x40, 'stuck-bus');
    const err = await sensorError(sensor.read());
    expect(err.kind).toBe('fault');
    expect(err.message).toMatch(/timed out.*power-cycle/);
    bus.injectFault(0x40, null);
    await expect(sensor.read()).resolves.toHaveProperty('humidity');
  });

  it('rejects blank calibration data as a fault', async () => {
    const clock = new SteppingClock();
    const bus = new VirtualI2cBus();
    const zero = Object.fromEntries(Object.keys(CAL).map((k) => [k, 0])) as unknown as Bme280Calibration;
    bus.attach(0x76, new VirtualBme280({ clock, calibration: zero }));
    const err = await sensorError(new Bme280({ bus, clock }).open());
    expect(err.kind).toBe('fault');
    expect(err.message).toContain('blank calibration data');
  });

  it('gives up with a fault when the measuring bit never clears', async () => {
    const clock = new SteppingClock();
    let frozen = false;
    const driverClock = { sleep: async (ms: number) => (frozen ? undefined : clock.sleep(ms)) };
    const bus = new VirtualI2cBus();
    bus.attach(0x76, new VirtualBme280({ clock }));
    const sensor = new Bme280({ bus, clock: driverClock });
    await sensor.open();
    frozen = true;
    const err = await sensorError(sensor.read());
    expect(err.kind).toBe('fault');
    expect(err.message).toMatch(/the measurement did not finish at 0x76/);
  });

  it('gives up with a fault when the reset never finishes copying calibration data', async () => {
    const frozen = { now: () => 0, sleep: async () => undefined };
    const bus = new VirtualI2cBus();
    bus.attach(0x76, new VirtualBme280({ clock: frozen }));
    const err = await sensorError(new Bme280({ bus, clock: frozen }).open());
    expect(err.kind).toBe('fault');
    expect(err.message).toMatch(/the reset did not finish copying calibration data at 0x76/);
  });
});
