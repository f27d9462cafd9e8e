import { describe, expect, it } from 'vitest';
import {
  Bme280, REG_CALIB_TP, REG_CTRL_HUM, REG_CTRL_MEAS, REG_DATA, REG_ID, REG_RESET, REG_STATUS, compensate,
  parseCalibration, parseRawData,
} from '../../hardware/bme280.ts';
import type { Bme280Calibration } from '../../hardware/bme280.ts';
import { BOSCH_EXAMPLE_CALIBRATION, VirtualBme280, encodeCalibration, rawFor } from '../../hardware/virtual-bme280.ts';
import { VirtualI2cBus } from '../../hardware/virtual-i2c-bus.ts';
import { SteppingClock } from './stepping-clock.ts';

function chipOnBus() {
  const clock = new SteppingClock();
  const bus = new VirtualI2cBus();
  const chip = new VirtualBme280({ clock });
  bus.attach(0x76, chip);
  return { clock, bus, chip };
}

describe('VirtualBme280', () => {
  it("stores Bosch's example constants in its NVM registers, LSB first", async () => {
    const { bus } = chipOnBus();
    expect([...(await bus.readRegisters(0x76, REG_CALIB_TP, 2))]).toEqual([0x70, 0x6b]); // dig_T1 27504
    const tp = await bus.readRegisters(0x76, REG_CALIB_TP, 26);
    const h = await bus.readRegisters(0x76, 0xe1, 7);
    expect(parseCalibration(tp, h)).toEqual(BOSCH_EXAMPLE_CALIBRATION);
  });

  it('encodes any calibration so that the driver parses it back, negative H4/H5 included', () => {
    const odd: Bme280Calibration = { ...BOSCH_EXAMPLE_CALIBRATION, H2: -300, H4: -5, H5: -2048, H6: -128, H1: 255, H3: 200 };
    const { tp, h } = encodeCalibration(odd);
    expect(parseCalibration(tp, h)).toEqual(odd);
  });

  it('inverts the compensation: the real driver reads back what was set, within the sensor resolution', async () => {
    const { chip, bus, clock } = chipOnBus();
    const sensor = new Bme280({ bus, clock });
    for (const temperature of [-30, -5.55, 0, 12.34, 25, 39.99]) {
      for (const pressure of [870, 950.5, 1013.25, 1084]) {
        for (const humidity of [3, 47.5, 99]) {
          chip.set({ temperature, pressure, humidity });
          const reading = await sensor.read();
          // Resolution: 0.01 °C, ~0.2 Pa, ~0.008 %RH at oversampling ×1 (datasheet table).
          expect(Math.abs(reading.temperature - temperature)).toBeLessThanOrEqual(0.01);
          expect(Math.abs(reading.pressure - pressure)).toBeLessThan(0.005);
          expect(Math.abs(reading.humidity - humidity)).toBeLessThan(0.02);
        }
      }
    }
  });

  it('rawFor gives counts a real part would give (20-bit / 16-bit) and compensate() brings them back', () => {
    const raw = rawFor({ temperature: 25.08, pressure: 1006.53, humidity: 40 }, BOSCH_EXAMPLE_CALIBRATION);
    expect(Math.abs(raw.adcT - 519888)).toBeLessThan(10); // the datasheet example is 25.08 °C at 519888
    expect(raw.adcP).toBeLessThan(1 << 20);
    expect(raw.adcH).toBeLessThan(1 << 16);
    const back = compensate(raw, BOSCH_EXAMPLE_CALIBRATION);
    expect(back.temperature).toBeCloseTo(25.08, 2);
    expect(back.pressure).toBeCloseTo(1006.53, 2);
    expect(back.humidity).toBeCloseTo(40, 1);
  });

  it('shows measuring in status while converting and returns to sleep mode afterwards', async () => {
    const { bus, clock } = chipOnBus();
    await bus.writeRegister(0x76, REG_CTRL_HUM, 0x01);
    await bus.writeRegister(0x76, REG_CTRL_MEAS, 0x25);
    expect((await bus.readRegisters(0x76, REG_STATUS, 1))[0]).toBe(0x08);
    expect((await bus.readRegisters(0x76, REG_CTRL_MEAS, 1))[0]).toBe(0x25);
    // Data still holds the reset pattern until the measurement is done.
    expect([...(await bus.readRegisters(0x76, REG_DATA, 3))]).toEqual([0x80, 0x00, 0x00]);
    clock.advance(10);
    expect((await bus.readRegisters(0x76, REG_STATUS, 1))[0]).toBe(0x00);
    expect((await bus.readRegisters(0x76, REG_CTRL_MEAS, 1))[0]).toBe(0x24);
    expect([...(await bus.readRegisters(0x76, REG_DATA, 3))]).not.toEqual([0x80, 0x00, 0x00]);
  });

  it('applies ctrl_hum only on the next ctrl_meas write, as the datasheet says', async () => {
    const { bus, clock } = chipOnBus();
    await bus.writeRegister(0x76, REG_CTRL_MEAS, 0x25); // humidity oversampling still 0: skipped
    await bus.writeRegister(0x76, REG_CTRL_HUM, 0x01);
    clock.advance(10);
    const skipped = parseRawData(await bus.readRegisters(0x76, REG_DATA, 8));
    expect(skipped.adcH).toBe(0x8000);
    expect(skipped.adcT).not.toBe(0x80000);
    await bus.writeRegister(0x76, REG_CTRL_MEAS, 0x25);
    clock.advance(10);
    expect(parseRawData(await bus.readRegisters(0x76, REG_DATA, 8)).adcH).not.toBe(0x8000);
  });

  it('soft reset clears the settings and data, and shows im_update while it copies NVM', async () => {
    const { bus, clock } = chipOnBus();
    await bus.writeRegister(0x76, REG_CTRL_HUM, 0x01);
    await bus.writeRegister(0x76, REG_CTRL_MEAS, 0x25);
    clock.advance(10);
    await bus.writeRegister(0x76, REG_RESET, 0xb6);
    expect((await bus.readRegisters(0x76, REG_STATUS, 1))[0]).toBe(0x01);
    clock.advance(2);
    expect((await bus.readRegisters(0x76, REG_STATUS, 1))[0]).toBe(0x00);
    expect([...(await bus.readRegisters(0x76, REG_CTRL_HUM, 3))]).toEqual([0, 0, 0]);
    expect([...(await bus.readRegisters(0x76, REG_DATA, 8))]).toEqual([0x80, 0, 0, 0x80, 0, 0, 0x80, 0]);
  });

  it('ignores writes other than 0xB6 to the reset register, and to read-only registers', async () => {
    const { bus } = chipOnBus();
    await bus.writeRegister(0x76, REG_RESET, 0x12);
    expect((await bus.readRegisters(0x76, REG_STATUS, 1))[0]).toBe(0);
    await bus.writeRegister(0x76, REG_CALIB_TP, 0x00);
    expect((await bus.readRegisters(0x76, REG_CALIB_TP, 1))[0]).toBe(0x70);
  });

  it('answers chip id 0x60, or the id injected as a fault', async () => {
    const { bus, chip } = chipOnBus();
    expect((await bus.readRegisters(0x76, REG_ID, 1))[0]).toBe(0x60);
    chip.setChipId(0x58);
    expect((await bus.readRegisters(0x76, REG_ID, 1))[0]).toBe(0x58);
  });
});
