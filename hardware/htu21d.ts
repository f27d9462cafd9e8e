/**
 * TE HTU21D(F) temperature and humidity sensor at 0x40, as on the Oracle Weather Station HAT. No-hold
 * master mode: trigger a measurement, let go of the bus, read when done (the sensor NACKs its address
 * while it is still measuring). Every reading carries a CRC-8 that is checked.
 */
import type { Logger } from 'pino';
import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import { I2cError, hex } from './i2c-bus.ts';
import type { I2cBus } from './i2c-bus.ts';
import { dataFault, sensorErrorFrom } from './i2c-sensor-errors.ts';

export const HTU21D_ADDRESS = 0x40;
export const CMD_TRIGGER_TEMPERATURE_HOLD = 0xe3;
export const CMD_TRIGGER_HUMIDITY_HOLD = 0xe5;
export const CMD_TRIGGER_TEMPERATURE = 0xf3; // no hold master
export const CMD_TRIGGER_HUMIDITY = 0xf5; // no hold master
export const CMD_WRITE_USER_REGISTER = 0xe6;
export const CMD_READ_USER_REGISTER = 0xe7;
export const CMD_SOFT_RESET = 0xfe;
export const FRAME_LENGTH = 3; // MSB, LSB, CRC
/**
 * The two low bits of a reading are status: bit 1 is 1 for humidity, 0 for temperature. They are only
 * masked off, never trusted, as Adafruit's and SparkFun's HTU21D drivers do: the datasheet's own examples
 * (temperature 0x683A, humidity 0x4E85) have them the other way round, so a chip made to that text would
 * fail every reading if a mismatch were an error.
 */
export const STATUS_MASK = 0x0003;
export const STATUS_HUMIDITY = 0x0002;
/** CRC-8 generator x^8 + x^5 + x^4 + 1. */
export const CRC_POLYNOMIAL = 0x131;
/** Datasheet: RH drifts by this much per °C away from 25 °C. */
export const TEMPERATURE_COEFFICIENT = -0.15;

/** Datasheet maxima: soft reset 15 ms, 14-bit temperature 50 ms, 12-bit humidity 16 ms. */
const RESET_MS = 15;
const TEMPERATURE_MS = 50;
const HUMIDITY_MS = 16;
const POLL_MS = 5;
const POLLS = 4;

export type Htu21dQuantity = 'temperature' | 'humidity';

export interface Htu21dReading {
  /** °C */
  temperature: number;
  /** %RH, temperature-compensated, clipped to 0..100 */
  humidity: number;
}

/** CRC-8 over `bytes` as the HTU21D computes it (polynomial 0x131, initial value 0). */
export function htu21dCrc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ CRC_POLYNOMIAL) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/**
 * The 16-bit signal from a 3-byte frame with its status bits cleared, and `mismatch` when those bits name
 * the other quantity; or what is wrong with the frame (only a CRC error is).
 */
export function decodeFrame(frame: Uint8Array, quantity: Htu21dQuantity): { signal: number; mismatch?: string } | { problem: string } {
  const [msb = 0, lsb = 0, crc = 0] = frame;
  if (htu21dCrc8(Uint8Array.of(msb, lsb)) !== crc) return { problem: `CRC error in the ${quantity} reading` };
  const word = (msb << 8) | lsb;
  const signal = word & ~STATUS_MASK & 0xffff;
  if (((word & STATUS_HUMIDITY) !== 0) === (quantity === 'humidity')) return { signal };
  return { signal, mismatch: `the status bits of the ${quantity} reading ${hex(word)} say ${quantity === 'humidity' ? 'temperature' : 'humidity'}` };
}

/** °C from the temperature signal. */
export function temperatureFromSignal(signal: number): number {
  return -46.85 + (175.72 * signal) / 65536;
}

/** %RH (uncompensated, unclipped) from the humidity signal. */
export function humidityFromSignal(signal: number): number {
  return -6 + (125 * signal) / 65536;
}

/** Datasheet temperature compensation of RH, clipped to 0..100 %RH. */
export function compensateHumidity(humidity: number, temperature: number, coefficient = TEMPERATURE_COEFFICIENT): number {
  return Math.min(100, Math.max(0, humidity + (25 - temperature) * coefficient));
}

export interface Htu21dOptions {
  bus: I2cBus;
  /** Default 0x40, the only address the part has. */
  address?: number;
  /** %RH per °C for the temperature compensation of humidity. Default -0.15 (datasheet); 0 turns it off. */
  temperatureCoefficient?: number;
  /** Waits for conversions; tests pass a clock that does not really sleep. Default: the system clock. */
  clock?: Pick<Clock, 'sleep'>;
  /** Where a status/command mismatch is told, once per driver. Default: not told. */
  log?: Pick<Logger, 'warn'>;
}

const SENSOR = 'HTU21D';

export class Htu21d {
  readonly sensor = SENSOR;
  readonly address: number;
  private readonly bus: I2cBus;
  private readonly coefficient: number;
  private readonly clock: Pick<Clock, 'sleep'>;
  private readonly log: Pick<Logger, 'warn'> | undefined;
  private opened = false;
  private mismatchTold = false;

  constructor(options: Htu21dOptions) {
    this.bus = options.bus;
    this.address = options.address ?? HTU21D_ADDRESS;
    this.coefficient = options.temperatureCoefficient ?? TEMPERATURE_COEFFICIENT;
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
  }

  /** Soft-resets the sensor, which also shows it answers. */
  async open(): Promise<void> {
    this.opened = false;
    try {
      await this.bus.write(this.address, Uint8Array.of(CMD_SOFT_RESET));
      await this.clock.sleep(RESET_MS);
      await this.readUserRegister();
    } catch (err) {
      throw sensorErrorFrom(err, SENSOR, this.bus, this.address, 'opening');
    }
    this.opened = true;
  }

  /** Temperature, then humidity compensated with that temperature. Opens first if needed. */
  async read(): Promise<Htu21dReading> {
    if (!this.opened) await this.open();
    try {
      const temperature = temperatureFromSignal(await this.measure('temperature', CMD_TRIGGER_TEMPERATURE, TEMPERATURE_MS));
      const humidity = humidityFromSignal(await this.measure('humidity', CMD_TRIGGER_HUMIDITY, HUMIDITY_MS));
      return { temperature, humidity: compensateHumidity(humidity, temperature, this.coefficient) };
    } catch (err) {
      this.opened = false;
      throw sensorErrorFrom(err, SENSOR, this.bus, this.address, 'reading');
    }
  }

  /** The bus belongs to the caller and stays open. */
  async close(): Promise<void> {
    this.opened = false;
  }

  private async measure(quantity: Htu21dQuantity, command: number, waitMs: number): Promise<number> {
    await this.bus.write(this.address, Uint8Array.of(command));
    await this.clock.sleep(waitMs);
    const frame = await this.readWhenReady(quantity);
    const decoded = decodeFrame(frame, quantity);
    if ('problem' in decoded) throw dataFault(SENSOR, this.bus, this.address, decoded.problem, 'check the wiring; replace the sensor if it persists');
    if (decoded.mismatch !== undefined && !this.mismatchTold) {
      // Once: a chip that does this does it on every reading, and the reading itself is good.
      this.mismatchTold = true;
      this.log?.warn(`${SENSOR} at ${hex(this.address)}: ${decoded.mismatch}; the bits are ignored (some chips and the datasheet's examples set them so), readings are used`);
    }
    return decoded.signal;
  }

  /**
   * The first command after a reset shows the sensor answers. A NACK there can still mean "resetting"
   * (the 15 ms is the datasheet's, and timers run a little early or late), so poll before calling it missing.
   */
  private async readUserRegister(): Promise<void> {
    for (let poll = 1; ; poll++) {
      try {
        await this.bus.write(this.address, Uint8Array.of(CMD_READ_USER_REGISTER));
        await this.bus.read(this.address, 1);
        return;
      } catch (err) {
        if (poll >= POLLS || !(err instanceof I2cError && err.isNoAck)) throw err;
        await this.clock.sleep(POLL_MS);
      }
    }
  }

  /** A NACK right after a trigger means "still measuring", so poll a few times before giving up. */
  private async readWhenReady(quantity: Htu21dQuantity): Promise<Buffer> {
    for (let poll = 1; poll <= POLLS; poll++) {
      try {
        return await this.bus.read(this.address, FRAME_LENGTH);
      } catch (err) {
        if (!(err instanceof I2cError && err.isNoAck)) throw err;
        await this.clock.sleep(POLL_MS);
      }
    }
    throw dataFault(SENSOR, this.bus, this.address, `the ${quantity} measurement did not finish`, 'power-cycle the sensor');
  }
}
