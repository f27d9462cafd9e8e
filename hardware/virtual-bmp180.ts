/**
 * A BMP180 that answers the real register protocol: chip id, soft reset, the calibration EEPROM, and
 * temperature/pressure conversions with the sco busy bit. Physical values set on it become the UT and
 * UP a real chip would report, found by running the datasheet algorithm backwards.
 */
import {
  BMP180_CHIP_ID, CALIBRATION_LENGTH, CMD_PRESSURE, CMD_TEMPERATURE, CONTROL_SCO, REG_CALIBRATION, REG_CONTROL,
  REG_DATA, REG_ID, REG_RESET, RESET_COMMAND, compensatePressure, compensateTemperature,
} from './bmp180.ts';
import type { Bmp180Calibration, Bmp180Oversampling, Bmp180Reading } from './bmp180.ts';
import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import { nearestInput } from './nearest-input.ts';
import { RegisterFileDevice } from './virtual-register-device.ts';

/** Bosch's worked example (BMP180 datasheet §3.5). */
export const BOSCH_EXAMPLE_CALIBRATION: Readonly<Bmp180Calibration> = {
  AC1: 408, AC2: -72, AC3: -14383, AC4: 32741, AC5: 32757, AC6: 23153,
  B1: 6190, B2: 4, MB: -32768, MC: -8711, MD: 2868,
};

/** Measurement-control bits of the control register (without oss and sco). */
const MEASUREMENT_MASK = 0x1f;
/** Datasheet maximum conversion times, ms: temperature, then pressure for oss 0..3. */
const TEMPERATURE_MS = 4.5;
const PRESSURE_MS = [4.5, 7.5, 13.5, 25.5] as const;

export function encodeCalibration(cal: Bmp180Calibration): Buffer {
  const b = Buffer.alloc(CALIBRATION_LENGTH);
  const words = [cal.AC1, cal.AC2, cal.AC3, cal.AC4, cal.AC5, cal.AC6, cal.B1, cal.B2, cal.MB, cal.MC, cal.MD];
  words.forEach((w, i) => b.writeUInt16BE(w & 0xffff, 2 * i));
  return b;
}

/** The UT that `cal` turns into `temperature` °C. */
export function utFor(temperature: number, cal: Bmp180Calibration): number {
  // MC / (X1 + MD) has a pole where X1 = -MD; every real reading lies above it, where B5 rises with UT.
  const pole = Math.ceil(cal.AC6 - (cal.MD * 32768) / cal.AC5);
  const lo = Math.min(0xffff, Math.max(0, pole + 1));
  // T in 0.1 °C is (B5 + 8) >> 4: aim at the middle of the B5 range that shows `temperature`.
  return nearestInput(lo, 0xffff, (ut) => compensateTemperature(ut, cal).b5, temperature * 160 - 0.5);
}

/** The UP that `cal` turns into `pressure` hPa at temperature B5 and oversampling `oss`. */
export function upFor(pressure: number, b5: number, oss: Bmp180Oversampling, cal: Bmp180Calibration): number {
  return nearestInput(0, (1 << (16 + oss)) - 1, (up) => compensatePressure(up, b5, oss, cal), pressure * 100);
}

export interface VirtualBmp180Options {
  clock?: Pick<Clock, 'now'>;
  calibration?: Bmp180Calibration;
  /** Default 20 °C, 1013.25 hPa. */
  initial?: Bmp180Reading;
}

export class VirtualBmp180 extends RegisterFileDevice {
  private readonly clock: Pick<Clock, 'now'>;
  private readonly calibration: Bmp180Calibration;
  private readonly eeprom: Buffer;
  private conditions: Bmp180Reading;
  private chipId = BMP180_CHIP_ID;
  private control = 0;
  private data: Uint8Array = Uint8Array.of(0x80, 0x00, 0x00);
  private pending: Uint8Array | undefined;
  private convertEnd = 0;
  /** Conversions started, for tests. */
  measurements = 0;

  constructor(options: VirtualBmp180Options = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.calibration = { ...(options.calibration ?? BOSCH_EXAMPLE_CALIBRATION) };
    this.eeprom = encodeCalibration(this.calibration);
    this.conditions = { ...(options.initial ?? { temperature: 20, pressure: 1013.25 }) };
  }

  /** Sets the conditions the next conversion sees: °C, hPa. */
  set(values: Partial<Bmp180Reading>): void {
    this.conditions = { ...this.conditions, ...values };
  }

  /** Makes the chip answer another id, to inject a wrong-part fault. */
  setChipId(id: number): void {
    this.chipId = id;
  }

  protected readRegister(register: number): number {
    this.settle();
    if (register >= REG_CALIBRATION && register < REG_CALIBRATION + CALIBRATION_LENGTH) {
      return this.eeprom[register - REG_CALIBRATION] ?? 0;
    }
    if (register >= REG_DATA && register < REG_DATA + 3) return this.data[register - REG_DATA] ?? 0;
    if (register === REG_ID) return this.chipId;
    if (register === REG_CONTROL) return this.control;
    return 0;
  }

  protected writeRegister(register: number, value: number): void {
    this.settle();
    if (register === REG_RESET && value === RESET_COMMAND) {
      this.control = 0;
      this.pending = undefined;
    } else if (register === REG_CONTROL) {
      this.control = value;
      this.start(value);
    }
  }

  private start(command: number): void {
    const oss = ((command >> 6) & 0x03) as Bmp180Oversampling;
    const ut = utFor(this.conditions.temperature, this.calibration);
    let ms: number;
    if ((command & MEASUREMENT_MASK) === (CMD_TEMPERATURE & MEASUREMENT_MASK)) {
      this.pending = Uint8Array.of(ut >> 8, ut & 0xff, 0);
      ms = TEMPERATURE_MS;
    } else if ((command & MEASUREMENT_MASK) === (CMD_PRESSURE & MEASUREMENT_MASK)) {
      const { b5 } = compensateTemperature(ut, this.calibration);
      const word = upFor(this.conditions.pressure, b5, oss, this.calibration) << (8 - oss);
      this.pending = Uint8Array.of((word >> 16) & 0xff, (word >> 8) & 0xff, word & 0xff);
      ms = PRESSURE_MS[oss];
    } else {
      return; // not a measurement command: the chip ignores it
    }
    this.control = command | CONTROL_SCO;
    this.convertEnd = this.clock.now() + ms;
    this.measurements++;
  }

  private settle(): void {
    if (this.pending === undefined || this.clock.now() < this.convertEnd) return;
    this.data = this.pending;
    this.pending = undefined;
    this.control &= ~CONTROL_SCO;
  }
}
