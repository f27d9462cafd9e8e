/**
 * A BME280 that answers the real register protocol. It holds calibration constants in its NVM
 * registers and turns the physical values set on it into the raw ADC counts a real sensor would
 * report, by searching the datasheet compensation backwards, so the real driver decodes them.
 */
import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import {
  BME280_CHIP_ID, CALIB_H_LENGTH, CALIB_TP_LENGTH, DATA_LENGTH, MODE_MASK, MODE_SLEEP, REG_CALIB_H,
  REG_CALIB_TP, REG_CTRL_HUM, REG_CTRL_MEAS, REG_DATA, REG_ID, REG_RESET, REG_STATUS, RESET_COMMAND, SKIPPED_16BIT,
  SKIPPED_20BIT, STATUS_IM_UPDATE, STATUS_MEASURING, compensateHumidity, compensatePressure, compensateTemperature,
} from './bme280.ts';
import type { Bme280Calibration, Bme280Raw, Bme280Reading } from './bme280.ts';
import { nearestInput } from './nearest-input.ts';
import { RegisterFileDevice } from './virtual-register-device.ts';

const REG_CONFIG = 0xf5;
const MODE_NORMAL = 0x03;
/** Datasheet: start-up (NVM copy) time 2 ms. */
const NVM_COPY_MS = 2;
/** Oversampling setting (register field) to the number of samples; 0 means skipped. */
const OVERSAMPLING = [0, 1, 2, 4, 8, 16, 16, 16] as const;
const ADC20_MAX = 0xfffff;
const ADC16_MAX = 0xffff;

/**
 * Temperature and pressure trimming from Bosch's worked example (BMP280 datasheet §3.12, the same
 * algorithm as the BME280). The datasheet gives no humidity example; these are typical values of a
 * real part.
 */
export const BOSCH_EXAMPLE_CALIBRATION: Readonly<Bme280Calibration> = {
  T1: 27504, T2: 26435, T3: -1000,
  P1: 36477, P2: -10685, P3: 3024, P4: 2855, P5: 140, P6: -7, P7: 15500, P8: -14600, P9: 6000,
  H1: 75, H2: 362, H3: 0, H4: 313, H5: 50, H6: 30,
};

/** The NVM bytes at 0x88 (26) and 0xE1 (7) that hold `cal`: the inverse of parseCalibration(). */
export function encodeCalibration(cal: Bme280Calibration): { tp: Buffer; h: Buffer } {
  const tp = Buffer.alloc(CALIB_TP_LENGTH);
  tp.writeUInt16LE(cal.T1, 0);
  [cal.T2, cal.T3].forEach((v, i) => tp.writeInt16LE(v, 2 + 2 * i));
  tp.writeUInt16LE(cal.P1, 6);
  [cal.P2, cal.P3, cal.P4, cal.P5, cal.P6, cal.P7, cal.P8, cal.P9].forEach((v, i) => tp.writeInt16LE(v, 8 + 2 * i));
  tp.writeUInt8(cal.H1, 25);
  const h = Buffer.alloc(CALIB_H_LENGTH);
  h.writeInt16LE(cal.H2, 0);
  h.writeUInt8(cal.H3, 2);
  h.writeUInt8((cal.H4 >> 4) & 0xff, 3);
  h.writeUInt8(((cal.H5 & 0x0f) << 4) | (cal.H4 & 0x0f), 4);
  h.writeUInt8((cal.H5 >> 4) & 0xff, 5);
  h.writeInt8(cal.H6, 6);
  return { tp, h };
}

/** Raw ADC counts that `cal` compensates to `target` (as closely as the integer maths allows). */
export function rawFor(target: Bme280Reading, cal: Bme280Calibration): Bme280Raw {
  // t_fine carries temperature in 1/5120 °C.
  const adcT = nearestInput(0, ADC20_MAX, (x) => compensateTemperature(x, cal).tFine, target.temperature * 5120);
  const { tFine } = compensateTemperature(adcT, cal);
  // Pressure falls as adc_P rises: search the negated curve.
  const adcP = nearestInput(0, ADC20_MAX, (x) => -compensatePressure(x, tFine, cal), -target.pressure * 100 * 256);
  const adcH = nearestInput(0, ADC16_MAX, (x) => compensateHumidity(x, tFine, cal), target.humidity * 1024);
  return { adcT, adcP, adcH };
}

export interface VirtualBme280Options {
  /** Time source for the measuring and NVM-copy status bits. Default: the system clock. */
  clock?: Pick<Clock, 'now'>;
  /** Trimming constants in NVM. Default: BOSCH_EXAMPLE_CALIBRATION. */
  calibration?: Bme280Calibration;
  /** Starting conditions. Default 20 °C, 1013.25 hPa, 50 %RH. */
  initial?: Bme280Reading;
}

export class VirtualBme280 extends RegisterFileDevice {
  private readonly clock: Pick<Clock, 'now'>;
  private readonly calibration: Bme280Calibration;
  private readonly nvm = new Uint8Array(256);
  private conditions: Bme280Reading;
  private chipId = BME280_CHIP_ID;
  private ctrlHum = 0;
  private ctrlMeas = 0;
  private config = 0;
  /** ctrl_hum as latched by the last ctrl_meas write: the only one that counts. */
  private humOversampling = 0;
  private data = resetData();
  private pending: Uint8Array | undefined;
  private measureEnd = 0;
  private nvmCopyEnd = 0;
  /** Measurements started, for tests. */
  measurements = 0;

  constructor(options: VirtualBme280Options = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.calibration = { ...(options.calibration ?? BOSCH_EXAMPLE_CALIBRATION) };
    this.conditions = { ...(options.initial ?? { temperature: 20, pressure: 1013.25, humidity: 50 }) };
    const { tp, h } = encodeCalibration(this.calibration);
    this.nvm.set(tp, REG_CALIB_TP);
    this.nvm.set(h, REG_CALIB_H);
  }

  /** Sets the conditions the next measurement sees: °C, hPa, %RH. */
  set(values: Partial<Bme280Reading>): void {
    this.conditions = { ...this.conditions, ...values };
  }

  /** Makes the chip answer another id, e.g. 0x58 to pose as a BMP280. */
  setChipId(id: number): void {
    this.chipId = id;
  }

  protected readRegister(register: number): number {
    this.settle();
    if (register >= REG_DATA && register < REG_DATA + DATA_LENGTH) return this.data[register - REG_DATA] ?? 0;
    switch (register) {
      case REG_ID: return this.chipId;
      case REG_RESET: return 0;
      case REG_CTRL_HUM: return this.ctrlHum;
      case REG_STATUS: return this.status();
      case REG_CTRL_MEAS: return this.ctrlMeas;
      case REG_CONFIG: return this.config;
      default: return this.nvm[register] ?? 0;
    }
  }

  protected writeRegister(register: number, value: number): void {
    this.settle();
    switch (register) {
      case REG_RESET:
        if (value === RESET_COMMAND) this.reset();
        return;
      case REG_CTRL_HUM:
        this.ctrlHum = value & 0x07;
        return;
      case REG_CTRL_MEAS:
        this.ctrlMeas = value;
        this.humOversampling = this.ctrlHum;
        if ((value & MODE_MASK) !== MODE_SLEEP) this.startMeasurement();
        return;
      case REG_CONFIG:
        this.config = value;
        return;
      default:
        return; // calibration, id and data registers are read-only
    }
  }

  private status(): number {
    const now = this.clock.now();
    return (now < this.measureEnd ? STATUS_MEASURING : 0) | (now < this.nvmCopyEnd ? STATUS_IM_UPDATE : 0);
  }

  private reset(): void {
    this.ctrlHum = 0;
    this.ctrlMeas = 0;
    this.config = 0;
    this.humOversampling = 0;
    this.data = resetData();
    this.pending = undefined;
    this.measureEnd = 0;
    this.nvmCopyEnd = this.clock.now() + NVM_COPY_MS;
  }

  private startMeasurement(): void {
    const osrsT = OVERSAMPLING[(this.ctrlMeas >> 5) & 0x07] ?? 0;
    const osrsP = OVERSAMPLING[(this.ctrlMeas >> 2) & 0x07] ?? 0;
    const osrsH = OVERSAMPLING[this.humOversampling] ?? 0;
    const raw = rawFor(this.conditions, this.calibration);
    this.pending = encodeData({
      adcT: osrsT === 0 ? SKIPPED_20BIT : raw.adcT,
      adcP: osrsP === 0 ? SKIPPED_20BIT : raw.adcP,
      adcH: osrsH === 0 ? SKIPPED_16BIT : raw.adcH,
    });
    // Datasheet §9.1, typical measurement time.
    const ms = 1 + 2 * osrsT + (osrsP ? 2 * osrsP + 0.5 : 0) + (osrsH ? 2 * osrsH + 0.5 : 0);
    this.measureEnd = this.clock.now() + ms;
    this.measurements++;
  }

  /** Moves a finished measurement into the data registers; forced mode then falls back to sleep. */
  private settle(): void {
    if (this.pending === undefined || this.clock.now() < this.measureEnd) return;
    this.data = this.pending;
    this.pending = undefined;
    if ((this.ctrlMeas & MODE_MASK) === MODE_NORMAL) this.startMeasurement();
    else this.ctrlMeas &= ~MODE_MASK;
  }
}

function resetData(): Uint8Array {
  return encodeData({ adcP: SKIPPED_20BIT, adcT: SKIPPED_20BIT, adcH: SKIPPED_16BIT });
}

function encodeData(raw: Bme280Raw): Uint8Array {
  return Uint8Array.of(
    raw.adcP >> 12, (raw.adcP >> 4) & 0xff, (raw.adcP & 0x0f) << 4,
    raw.adcT >> 12, (raw.adcT >> 4) & 0xff, (raw.adcT & 0x0f) << 4,
    raw.adcH >> 8, raw.adcH & 0xff,
  );
}
