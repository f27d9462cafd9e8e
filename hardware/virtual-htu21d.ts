/**
 * An HTU21D that answers the real command protocol: triggers, NACKs while converting, 3-byte frames
 * with CRC, soft reset and the user register. Its raw humidity drifts with temperature the way the
 * datasheet's compensation formula undoes, so the driver's compensated value is the one set here.
 */
import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import {
  CMD_READ_USER_REGISTER, CMD_SOFT_RESET, CMD_TRIGGER_HUMIDITY, CMD_TRIGGER_HUMIDITY_HOLD, CMD_TRIGGER_TEMPERATURE,
  CMD_TRIGGER_TEMPERATURE_HOLD, CMD_WRITE_USER_REGISTER, STATUS_HUMIDITY, TEMPERATURE_COEFFICIENT, htu21dCrc8,
} from './htu21d.ts';
import type { Htu21dQuantity, Htu21dReading } from './htu21d.ts';
import { I2cError, hex } from './i2c-bus.ts';
import type { VirtualI2cDevice } from './virtual-i2c-bus.ts';

/** Datasheet typical times: 14-bit temperature 44 ms, 12-bit humidity 14 ms, soft reset 15 ms. */
const TEMPERATURE_MS = 44;
const HUMIDITY_MS = 14;
const RESET_MS = 15;
const USER_REGISTER_DEFAULT = 0x02;
/** Data bits kept at the default resolutions: 14-bit temperature, 12-bit humidity. */
const TEMPERATURE_BITS = 0xfffc;
const HUMIDITY_BITS = 0xfff0;

/** `bad-crc`: every frame's CRC byte is wrong. */
export type VirtualHtu21dFault = 'bad-crc';

export interface VirtualHtu21dOptions {
  clock?: Pick<Clock, 'now'>;
  /** Must match the driver's. Default -0.15 %RH/°C. */
  temperatureCoefficient?: number;
  /** Default 20 °C, 50 %RH. */
  initial?: Htu21dReading;
  /** Address used in NACK errors. Default 0x40. */
  address?: number;
}

/** The 16-bit word a sensor reports for `value` of `quantity` (status bits included). */
export function signalFor(quantity: Htu21dQuantity, value: number): number {
  const [scale, offset, bits, status] = quantity === 'temperature'
    ? [175.72, -46.85, TEMPERATURE_BITS, 0]
    : [125, -6, HUMIDITY_BITS, STATUS_HUMIDITY];
  const signal = Math.min(0xffff, Math.max(0, Math.round(((value - offset) * 65536) / scale)));
  // Round to the nearest step the resolution can show, not down.
  const step = (~bits & 0xffff) + 1;
  return (Math.min(bits, Math.round(signal / step) * step) & bits) | status;
}

export class VirtualHtu21d implements VirtualI2cDevice {
  private readonly clock: Pick<Clock, 'now'>;
  private readonly coefficient: number;
  private readonly address: number;
  private conditions: Htu21dReading;
  private fault: VirtualHtu21dFault | null = null;
  private raw: Partial<Record<Htu21dQuantity, number>> = {};
  private userRegister = USER_REGISTER_DEFAULT;
  private busyUntil = 0;
  private output: Uint8Array | undefined;
  /** Conversions started, for tests. */
  measurements = 0;

  constructor(options: VirtualHtu21dOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.coefficient = options.temperatureCoefficient ?? TEMPERATURE_COEFFICIENT;
    this.address = options.address ?? 0x40;
    this.conditions = { ...(options.initial ?? { temperature: 20, humidity: 50 }) };
  }

  /** Sets the conditions: °C and the true (compensated) %RH. */
  set(values: Partial<Htu21dReading>): void {
    this.conditions = { ...this.conditions, ...values };
  }

  /**
   * Sends `words` as they are (status bits included, with a good CRC) in place of the conditions, e.g. the
   * datasheet's examples 0x683A for temperature and 0x4E85 for humidity; `{}` goes back to the conditions.
   */
  setRaw(words: Partial<Record<Htu21dQuantity, number>>): void {
    this.raw = { ...words };
  }

  setFault(fault: VirtualHtu21dFault | null): void {
    this.fault = fault;
  }

  write(bytes: Uint8Array): void {
    this.refuseWhileBusy('write');
    const [command, value] = bytes;
    switch (command) {
      case CMD_TRIGGER_TEMPERATURE:
      case CMD_TRIGGER_TEMPERATURE_HOLD:
        this.convert('temperature', command === CMD_TRIGGER_TEMPERATURE ? TEMPERATURE_MS : 0);
        return;
      case CMD_TRIGGER_HUMIDITY:
      case CMD_TRIGGER_HUMIDITY_HOLD:
        this.convert('humidity', command === CMD_TRIGGER_HUMIDITY ? HUMIDITY_MS : 0);
        return;
      case CMD_READ_USER_REGISTER:
        this.output = Uint8Array.of(this.userRegister);
        return;
      case CMD_WRITE_USER_REGISTER:
        if (value !== undefined) this.userRegister = value;
        return;
      case CMD_SOFT_RESET:
        this.userRegister = USER_REGISTER_DEFAULT;
        this.output = undefined;
        this.busyUntil = this.clock.now() + RESET_MS;
        return;
      default:
        throw this.nack(`command ${hex(command ?? 0)}`);
    }
  }

  read(length: number): Uint8Array {
    this.refuseWhileBusy('read');
    // With nothing to say the sensor does not acknowledge a read.
    if (this.output === undefined) throw this.nack('read with no measurement pending');
    const out = this.output.subarray(0, length);
    this.output = undefined;
    return out;
  }

  private convert(quantity: Htu21dQuantity, ms: number): void {
    const { temperature, humidity } = this.conditions;
    // The sensing element reads the uncompensated RH; the driver's compensation brings it back.
    const value = quantity === 'temperature' ? temperature : humidity - (25 - temperature) * this.coefficient;
    const signal = (this.raw[quantity] ?? signalFor(quantity, value)) & 0xffff;
    const word = Uint8Array.of(signal >> 8, signal & 0xff);
    const crc = htu21dCrc8(word) ^ (this.fault === 'bad-crc' ? 0xff : 0);
    this.output = Uint8Array.of(...word, crc);
    this.busyUntil = this.clock.now() + ms;
    this.measurements++;
  }

  private refuseWhileBusy(what: string): void {
    if (this.clock.now() < this.busyUntil) throw this.nack(`${what} while busy`);
  }

  private nack(what: string): I2cError {
    return new I2cError('ENXIO', this.address, `no acknowledge from ${hex(this.address)} (${what})`);
  }
}
