/**
 * Bosch BMP180 barometer at 0x77, as on the Oracle Weather Station HAT. The datasheet's integer
 * algorithm (BST-BMP180-DS000 §3.5) turns the uncompensated temperature (UT) and pressure (UP) into
 * 0.1 °C and Pa. Its divisions round down (arithmetic shifts), which its worked example relies on.
 */
import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import { hex } from './i2c-bus.ts';
import type { I2cBus } from './i2c-bus.ts';
import { dataFault, sensorErrorFrom } from './i2c-sensor-errors.ts';

export const BMP180_ADDRESS = 0x77;
export const BMP180_CHIP_ID = 0x55;
export const REG_CALIBRATION = 0xaa;
export const CALIBRATION_LENGTH = 22; // AC1..MD, 11 big-endian words
export const REG_ID = 0xd0;
export const REG_RESET = 0xe0;
export const RESET_COMMAND = 0xb6;
export const REG_CONTROL = 0xf4;
export const REG_DATA = 0xf6; // MSB, LSB, XLSB
export const CMD_TEMPERATURE = 0x2e;
export const CMD_PRESSURE = 0x34; // + (oss << 6)
/** Start of conversion: set while converting, cleared when done. */
export const CONTROL_SCO = 0x20;

/** Datasheet maximum conversion times, ms: temperature, then pressure for oss 0..3. */
const TEMPERATURE_MS = 4.5;
const PRESSURE_MS = [4.5, 7.5, 13.5, 25.5] as const;
const RESET_MS = 10;
const POLL_MS = 2;
const POLLS = 5;

export type Bmp180Oversampling = 0 | 1 | 2 | 3;

export interface Bmp180Calibration {
  AC1: number; AC2: number; AC3: number; AC4: number; AC5: number; AC6: number;
  B1: number; B2: number; MB: number; MC: number; MD: number;
}

export interface Bmp180Reading {
  /** °C */
  temperature: number;
  /** hPa */
  pressure: number;
}

export function parseCalibration(bytes: Uint8Array): Bmp180Calibration {
  if (bytes.length < CALIBRATION_LENGTH) throw new RangeError('BMP180 calibration needs 22 bytes');
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    AC1: b.readInt16BE(0), AC2: b.readInt16BE(2), AC3: b.readInt16BE(4),
    AC4: b.readUInt16BE(6), AC5: b.readUInt16BE(8), AC6: b.readUInt16BE(10),
    B1: b.readInt16BE(12), B2: b.readInt16BE(14), MB: b.readInt16BE(16), MC: b.readInt16BE(18), MD: b.readInt16BE(20),
  };
}

/** Arithmetic shift right without JavaScript's 32-bit wrap: the datasheet's "/ 2^n" on any safe integer. */
const asr = (x: number, n: number): number => Math.floor(x / 2 ** n);

/** B5 (shared with the pressure step) and the temperature in 0.1 °C. */
export function compensateTemperature(ut: number, cal: Bmp180Calibration): { temperature: number; b5: number } {
  const x1 = asr((ut - cal.AC6) * cal.AC5, 15);
  const x2 = Math.floor((cal.MC * 2048) / (x1 + cal.MD));
  const b5 = x1 + x2;
  return { temperature: asr(b5 + 8, 4), b5 };
}

/** Pressure in Pa. */
export function compensatePressure(up: number, b5: number, oss: Bmp180Oversampling, cal: Bmp180Calibration): number {
  const b6 = b5 - 4000;
  let x1 = asr(cal.B2 * asr(b6 * b6, 12), 11);
  let x2 = asr(cal.AC2 * b6, 11);
  let x3 = x1 + x2;
  const b3 = asr((cal.AC1 * 4 + x3) * 2 ** oss + 2, 2);
  x1 = asr(cal.AC3 * b6, 13);
  x2 = asr(cal.B1 * asr(b6 * b6, 12), 16);
  x3 = asr(x1 + x2 + 2, 2);
  // B4 and B7 are unsigned 32-bit in the datasheet.
  const b4 = Math.floor((cal.AC4 * ((x3 + 32768) >>> 0)) / 32768);
  const b7 = ((up - b3) >>> 0) * (50000 >> oss);
  let p = b7 < 0x80000000 ? Math.floor((b7 * 2) / b4) : Math.floor(b7 / b4) * 2;
  x1 = asr(p, 8) * asr(p, 8);
  x1 = asr(x1 * 3038, 16);
  x2 = asr(-7357 * p, 16);
  p += asr(x1 + x2 + 3791, 4);
  return p;
}

/** UP from the three data bytes: a 19-bit value at oss 3, shifted down for lower settings. */
export function rawPressure(data: Uint8Array, oss: Bmp180Oversampling): number {
  const [msb = 0, lsb = 0, xlsb = 0] = data;
  return ((msb << 16) | (lsb << 8) | xlsb) >> (8 - oss);
}

export interface Bmp180Options {
  bus: I2cBus;
  /** Default 0x77. */
  address?: number;
  /** Pressure oversampling 0..3 (ultra low power .. ultra high resolution). Default 3. */
  oversampling?: Bmp180Oversampling;
  clock?: Pick<Clock, 'sleep'>;
}

const SENSOR = 'BMP180';

export class Bmp180 {
  readonly sensor = SENSOR;
  readonly address: number;
  private readonly bus: I2cBus;
  private readonly oss: Bmp180Oversampling;
  private readonly clock: Pick<Clock, 'sleep'>;
  private calibration: Bmp180Calibration | undefined;

  constructor(options: Bmp180Options) {
    this.bus = options.bus;
    this.address = options.address ?? BMP180_ADDRESS;
    this.oss = options.oversampling ?? 3;
    if (![0, 1, 2, 3].includes(this.oss)) throw new RangeError(`BMP180 oversampling must be 0..3, got ${String(this.oss)}`);
    this.clock = options.clock ?? systemClock;
  }

  /** Checks the chip id, resets the chip and reads its calibration. */
  async open(): Promise<void> {
    this.calibration = await this.setUp();
  }

  private async setUp(): Promise<Bmp180Calibration> {
    this.calibration = undefined;
    try {
      const [id = 0] = await this.bus.readRegisters(this.address, REG_ID, 1);
      if (id !== BMP180_CHIP_ID) {
        throw dataFault(SENSOR, this.bus, this.address, `unexpected chip id ${hex(id)}`,
          `a BMP180 answers ${hex(BMP180_CHIP_ID)} (a BME280 answers 0x60); check the part and the configured sensor`);
      }
      await this.bus.writeRegister(this.address, REG_RESET, RESET_COMMAND);
      await this.clock.sleep(RESET_MS);
      const calibration = parseCalibration(await this.bus.readRegisters(this.address, REG_CALIBRATION, CALIBRATION_LENGTH));
      // The datasheet: no word is 0x0000 or 0xFFFF in a good EEPROM.
      if (Object.values(calibration).some((v) => v === 0 || v === -1 || v === 0xffff)) {
        throw dataFault(SENSOR, this.bus, this.address, 'bad calibration data', 'the EEPROM read failed; check the wiring or replace the sensor');
      }
      return calibration;
    } catch (err) {
      throw sensorErrorFrom(err, SENSOR, this.bus, this.address, 'opening');
    }
  }

  async read(): Promise<Bmp180Reading> {
    const cal = (this.calibration ??= await this.setUp());
    try {
      const ut = (await this.convert(CMD_TEMPERATURE, TEMPERATURE_MS, 2)).readUInt16BE(0);
      const pressureCommand = CMD_PRESSURE + (this.oss << 6);
      const up = rawPressure(await this.convert(pressureCommand, PRESSURE_MS[this.oss], 3), this.oss);
      const { temperature, b5 } = compensateTemperature(ut, cal);
      return { temperature: temperature / 10, pressure: compensatePressure(up, b5, this.oss, cal) / 100 };
    } catch (err) {
      this.calibration = undefined;
      throw sensorErrorFrom(err, SENSOR, this.bus, this.address, 'reading');
    }
  }

  /** The bus belongs to the caller and stays open. */
  async close(): Promise<void> {
    this.calibration = undefined;
  }

  /** Starts a conversion, waits for it (sco bit clear) and reads `length` result bytes. */
  private async convert(command: number, waitMs: number, length: number): Promise<Buffer> {
    await this.bus.writeRegister(this.address, REG_CONTROL, command);
    await this.clock.sleep(waitMs);
    for (let poll = 0; ; poll++) {
      const [control = 0] = await this.bus.readRegisters(this.address, REG_CONTROL, 1);
      if ((control & CONTROL_SCO) === 0) break;
      if (poll >= POLLS) throw dataFault(SENSOR, this.bus, this.address, 'conversion did not finish', 'power-cycle the sensor');
      await this.clock.sleep(POLL_MS);
    }
    return this.bus.readRegisters(this.address, REG_DATA, length);
  }
}
