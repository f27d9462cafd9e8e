/**
 * Bosch BME280 (temperature, pressure, humidity) on I²C, as on the build-your-own station.
 * Forced mode: one measurement per read(), the sensor sleeps in between. Compensation is the
 * datasheet's integer code (BST-BME280-DS002 §4.2.3): 32-bit for temperature and humidity, the 64-bit
 * path (BigInt) for pressure.
 */
import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import { I2cError, hex } from './i2c-bus.ts';
import type { I2cBus } from './i2c-bus.ts';
import { ENABLE_I2C_HINT, dataFault, location, sensorErrorFrom } from './i2c-sensor-errors.ts';
import { SensorError } from './sensor-error.ts';

export const BME280_ADDRESSES = [0x76, 0x77] as const;
export const BME280_CHIP_ID = 0x60;
export const BMP280_CHIP_ID = 0x58;

export const REG_CALIB_TP = 0x88;
export const CALIB_TP_LENGTH = 26; // 0x88..0xA1: dig_T1..dig_P9, a reserved byte, dig_H1
export const REG_ID = 0xd0;
export const REG_RESET = 0xe0;
export const RESET_COMMAND = 0xb6;
export const REG_CALIB_H = 0xe1;
export const CALIB_H_LENGTH = 7; // 0xE1..0xE7: dig_H2..dig_H6
export const REG_CTRL_HUM = 0xf2;
export const REG_STATUS = 0xf3;
export const REG_CTRL_MEAS = 0xf4;
export const REG_DATA = 0xf7;
export const DATA_LENGTH = 8; // press[3], temp[3], hum[2]

export const STATUS_MEASURING = 0x08;
export const STATUS_IM_UPDATE = 0x01;
export const MODE_MASK = 0x03;
export const MODE_SLEEP = 0x00;
export const MODE_FORCED = 0x01;
/** Oversampling ×1 for everything: the datasheet's weather-monitoring setting. */
export const CTRL_HUM_X1 = 0x01;
export const CTRL_MEAS_FORCED_X1 = (0x01 << 5) | (0x01 << 2) | MODE_FORCED;
/** What the data registers hold after reset, or for a measurement that was skipped (oversampling 0). */
export const SKIPPED_20BIT = 0x80000;
export const SKIPPED_16BIT = 0x8000;

/** Datasheet: start-up 2 ms; a ×1/×1/×1 measurement takes 8 ms typical, 9.3 ms max. */
const STARTUP_MS = 2;
const MEASURE_MS = 10;
const POLL_MS = 2;
const POLLS = 5;

/** Chip ids of look-alikes that answer at 0x76/0x77, so the message can name what was found. */
const LOOK_ALIKES: Record<number, string> = { 0x55: 'BMP180', 0x56: 'BMP280', 0x57: 'BMP280', 0x61: 'BME680' };

export interface Bme280Calibration {
  T1: number; T2: number; T3: number;
  P1: number; P2: number; P3: number; P4: number; P5: number; P6: number; P7: number; P8: number; P9: number;
  H1: number; H2: number; H3: number; H4: number; H5: number; H6: number;
}

export interface Bme280Raw {
  adcT: number;
  adcP: number;
  adcH: number;
}

export interface Bme280Reading {
  /** °C */
  temperature: number;
  /** hPa */
  pressure: number;
  /** %RH */
  humidity: number;
}

const int8 = (b: number): number => (b << 24) >> 24;

/** Calibration from the 26 bytes at 0x88 and the 7 bytes at 0xE1 (datasheet table 16). */
export function parseCalibration(tp: Uint8Array, h: Uint8Array): Bme280Calibration {
  if (tp.length < CALIB_TP_LENGTH || h.length < CALIB_H_LENGTH) throw new RangeError('BME280 calibration needs 26 + 7 bytes');
  const b = Buffer.from(tp.buffer, tp.byteOffset, tp.length);
  const e = Buffer.from(h.buffer, h.byteOffset, h.length);
  return {
    T1: b.readUInt16LE(0), T2: b.readInt16LE(2), T3: b.readInt16LE(4),
    P1: b.readUInt16LE(6), P2: b.readInt16LE(8), P3: b.readInt16LE(10), P4: b.readInt16LE(12),
    P5: b.readInt16LE(14), P6: b.readInt16LE(16), P7: b.readInt16LE(18), P8: b.readInt16LE(20), P9: b.readInt16LE(22),
    H1: b.readUInt8(25),
    H2: e.readInt16LE(0),
    H3: e.readUInt8(2),
    // dig_H4 and dig_H5 are 12-bit values sharing the nibbles of 0xE5.
    H4: int8(e.readUInt8(3)) * 16 + (e.readUInt8(4) & 0x0f),
    H5: int8(e.readUInt8(5)) * 16 + (e.readUInt8(4) >> 4),
    H6: e.readInt8(6),
  };
}

/** Raw ADC values from the 8 data bytes at 0xF7. */
export function parseRawData(data: Uint8Array): Bme280Raw {
  const [p0 = 0, p1 = 0, p2 = 0, t0 = 0, t1 = 0, t2 = 0, h0 = 0, h1 = 0] = data;
  return {
    adcP: (p0 << 12) | (p1 << 4) | (p2 >> 4),
    adcT: (t0 << 12) | (t1 << 4) | (t2 >> 4),
    adcH: (h0 << 8) | h1,
  };
}

/** Datasheet bme280_compensate_T_int32: temperature in 0.01 °C and t_fine for the other two. */
export function compensateTemperature(adcT: number, cal: Bme280Calibration): { temperature: number; tFine: number } {
  const var1 = ((((adcT >> 3) - (cal.T1 << 1)) | 0) * cal.T2) >> 11;
  const d = ((adcT >> 4) - cal.T1) | 0;
  const var2 = (((Math.imul(d, d) >> 12) | 0) * cal.T3) >> 14;
  const tFine = (var1 + var2) | 0;
  return { temperature: (tFine * 5 + 128) >> 8, tFine };
}

/** Datasheet bme280_compensate_P_int64: pressure in Pa as Q24.8 (divide by 256 for Pa). */
export function compensatePressure(adcP: number, tFine: number, cal: Bme280Calibration): number {
  const P = (n: number): bigint => BigInt(n);
  let var1 = P(tFine) - 128000n;
  let var2 = var1 * var1 * P(cal.P6);
  var2 = var2 + ((var1 * P(cal.P5)) << 17n);
  var2 = var2 + (P(cal.P4) << 35n);
  var1 = ((var1 * var1 * P(cal.P3)) >> 8n) + ((var1 * P(cal.P2)) << 12n);
  var1 = (((1n << 47n) + var1) * P(cal.P1)) >> 33n;
  if (var1 === 0n) return 0; // the datasheet's guard against division by zero
  let p = 1048576n - P(adcP);
  p = (((p << 31n) - var2) * 3125n) / var1;
  var1 = (P(cal.P9) * (p >> 13n) * (p >> 13n)) >> 25n;
  var2 = (P(cal.P8) * p) >> 19n;
  p = ((p + var1 + var2) >> 8n) + (P(cal.P7) << 4n);
  return Number(BigInt.asUintN(32, p));
}

/** Datasheet bme280_compensate_H_int32: humidity in %RH as Q22.10 (divide by 1024 for %RH). */
export function compensateHumidity(adcH: number, tFine: number, cal: Bme280Calibration): number {
  // Every step wraps to int32 as the datasheet's C does.
  let v = (tFine - 76800) | 0;
  const a = (((((adcH << 14) - (cal.H4 << 20) - Math.imul(cal.H5, v)) | 0) + 16384) >> 15) | 0;
  const b = ((Math.imul(v, cal.H6) >> 10) * (((Math.imul(v, cal.H3) >> 11) + 32768) | 0)) >> 10;
  const c = (Math.imul((b + 2097152) | 0, cal.H2) + 8192) >> 14;
  v = Math.imul(a, c);
  v = (v - (((Math.imul(Math.imul(v >> 15, v >> 15) >> 7, cal.H1) | 0) >> 4) | 0)) | 0;
  v = Math.min(Math.max(v, 0), 419430400);
  return v >> 12;
}

/** Physical values from raw ADC counts. */
export function compensate(raw: Bme280Raw, cal: Bme280Calibration): Bme280Reading {
  const { temperature, tFine } = compensateTemperature(raw.adcT, cal);
  return {
    temperature: temperature / 100,
    pressure: compensatePressure(raw.adcP, tFine, cal) / 256 / 100,
    humidity: compensateHumidity(raw.adcH, tFine, cal) / 1024,
  };
}

export interface Bme280Options {
  bus: I2cBus;
  /** Use only this address. Default: probe 0x76, then 0x77. */
  address?: number;
  /** Waits between the steps; tests pass a clock that does not really sleep. Default: the system clock. */
  clock?: Pick<Clock, 'sleep'>;
}

const SENSOR = 'BME280';

/** Where the sensor answered and the trimming it holds: what open() learns. */
interface Found {
  address: number;
  calibration: Bme280Calibration;
}

export class Bme280 {
  readonly sensor = SENSOR;
  private readonly bus: I2cBus;
  private readonly candidates: readonly number[];
  private readonly clock: Pick<Clock, 'sleep'>;
  private found: Found | undefined;

  constructor(options: Bme280Options) {
    this.bus = options.bus;
    this.candidates = options.address === undefined ? BME280_ADDRESSES : [options.address];
    this.clock = options.clock ?? systemClock;
  }

  /** The address the sensor answered at, once open. */
  get address(): number | undefined {
    return this.found?.address;
  }

  /** Finds the sensor, checks its chip id, resets it and reads its calibration. */
  async open(): Promise<void> {
    this.found = await this.setUp();
  }

  private async setUp(): Promise<Found> {
    this.found = undefined;
    const { address, id } = await this.probe();
    try {
      this.checkChipId(address, id);
      await this.bus.writeRegister(address, REG_RESET, RESET_COMMAND);
      await this.clock.sleep(STARTUP_MS);
      await this.waitWhile(address, STATUS_IM_UPDATE, 'the reset did not finish copying calibration data');
      const tp = await this.bus.readRegisters(address, REG_CALIB_TP, CALIB_TP_LENGTH);
      const h = await this.bus.readRegisters(address, REG_CALIB_H, CALIB_H_LENGTH);
      const calibration = parseCalibration(tp, h);
      if (calibration.T1 === 0 || calibration.P1 === 0 || [...tp].every((x) => x === tp[0])) {
        throw dataFault(SENSOR, this.bus, address, 'blank calibration data', 'the sensor may be damaged; replace it');
      }
      return { address, calibration };
    } catch (err) {
      throw sensorErrorFrom(err, SENSOR, this.bus, address, 'opening');
    }
  }

  /** One forced-mode measurement. Opens the sensor first if needed, and again after any failure. */
  async read(): Promise<Bme280Reading> {
    this.found ??= await this.setUp();
    const { address, calibration } = this.found;
    try {
      // ctrl_hum only takes effect on the next ctrl_meas write, so it goes first.
      await this.bus.writeRegister(address, REG_CTRL_HUM, CTRL_HUM_X1);
      await this.bus.writeRegister(address, REG_CTRL_MEAS, CTRL_MEAS_FORCED_X1);
      await this.clock.sleep(MEASURE_MS);
      await this.waitWhile(address, STATUS_MEASURING, 'the measurement did not finish');
      const raw = parseRawData(await this.bus.readRegisters(address, REG_DATA, DATA_LENGTH));
      // All three at their reset pattern: no measurement ever reached the data registers. (One alone
      // can be a genuine reading, so it is not judged.)
      if (raw.adcT === SKIPPED_20BIT && raw.adcP === SKIPPED_20BIT && raw.adcH === SKIPPED_16BIT) {
        throw dataFault(SENSOR, this.bus, address, 'no measurement was made', 'the sensor ignored its settings; power-cycle it');
      }
      return compensate(raw, calibration);
    } catch (err) {
      this.found = undefined;
      throw sensorErrorFrom(err, SENSOR, this.bus, address, 'reading');
    }
  }

  /** Forgets the sensor. The bus belongs to the caller and stays open; in forced mode the sensor already sleeps. */
  async close(): Promise<void> {
    this.found = undefined;
  }

  /** The first candidate address that answers, with the chip id it answered. */
  private async probe(): Promise<{ address: number; id: number }> {
    for (const address of this.candidates) {
      try {
        const [id = 0] = await this.bus.readRegisters(address, REG_ID, 1);
        return { address, id };
      } catch (err) {
        if (err instanceof I2cError && err.isNoAck) continue;
        throw sensorErrorFrom(err, SENSOR, this.bus, address, 'probing');
      }
    }
    throw new SensorError('missing', SENSOR, `not found at ${location(this.bus, this.candidates)}: ${ENABLE_I2C_HINT}`);
  }

  private checkChipId(address: number, id: number): void {
    if (id === BME280_CHIP_ID) return;
    if (id === BMP280_CHIP_ID) {
      throw dataFault(SENSOR, this.bus, address, 'BMP280 found', 'it has no humidity sensor, use a BME280');
    }
    const what = LOOK_ALIKES[id] === undefined ? `unexpected chip id ${hex(id)}` : `${LOOK_ALIKES[id]} found (chip id ${hex(id)})`;
    throw dataFault(SENSOR, this.bus, address, what, `a BME280 answers ${hex(BME280_CHIP_ID)}; check the part and the configured sensor`);
  }

  /** Polls the status register until `bit` clears, or fails with `problem`. */
  private async waitWhile(address: number, bit: number, problem: string): Promise<void> {
    for (let poll = 0; poll < POLLS; poll++) {
      const [status = 0] = await this.bus.readRegisters(address, REG_STATUS, 1);
      if ((status & bit) === 0) return;
      await this.clock.sleep(POLL_MS);
    }
    throw dataFault(SENSOR, this.bus, address, problem, 'power-cycle the sensor');
  }
}
