/**
 * The I2cBus on a real /dev/i2c-N, through the i2c-bus package's promisified API. Kernel errno errors
 * become I2cError with a message that says what to do, so a student sees "is I²C enabled?" rather
 * than "ENOENT".
 */
import { access, constants } from 'node:fs/promises';
import i2c from 'i2c-bus';
import type { PromisifiedBus } from 'i2c-bus';
import { I2cError, hex } from './i2c-bus.ts';
import type { I2cBus, I2cErrorCode } from './i2c-bus.ts';
import { I2C_BLOCK_MAX, I2C_TRANSFER_MAX, checkAddress, checkByte, checkLength } from './i2c-transfer-checks.ts';

/** Errno numbers for errors that arrive with a number but no code string. */
const ERRNO_CODES: Record<number, I2cErrorCode> = {
  1: 'EACCES', // EPERM
  2: 'ENOENT',
  5: 'EIO',
  6: 'ENXIO',
  13: 'EACCES',
  16: 'EBUSY',
  110: 'ETIMEDOUT',
  121: 'EREMOTEIO',
};
const KNOWN_CODES = new Set<string>(['ENXIO', 'EREMOTEIO', 'EIO', 'ETIMEDOUT', 'ENOENT', 'EACCES', 'EBUSY']);
/** Address used in errors that concern the whole bus rather than one device. */
const NO_ADDRESS = -1;

export type OpenPromisified = (busNumber: number) => Promise<PromisifiedBus>;

export function i2cDevicePath(busNumber: number): string {
  return `/dev/i2c-${busNumber}`;
}

function errnoCode(err: unknown): I2cErrorCode | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, errno } = err as { code?: unknown; errno?: unknown };
  if (typeof code === 'string' && KNOWN_CODES.has(code)) return code as I2cErrorCode;
  if (code === 'EPERM') return 'EACCES';
  if (typeof errno === 'number') return ERRNO_CODES[Math.abs(errno)];
  return undefined;
}

/** Turns an error from i2c-bus (or fs) into an I2cError whose message names the bus and the next step. */
export function toI2cError(err: unknown, busName: string, address: number, operation: string): I2cError {
  if (err instanceof I2cError) return err;
  const code = errnoCode(err) ?? 'EIO';
  const at = address === NO_ADDRESS ? busName : `${hex(address)} on ${busName}`;
  const detail = err instanceof Error ? err.message : String(err);
  const messages: Record<I2cErrorCode, string> = {
    ENOENT: `${busName} not found: is I²C enabled (sudo raspi-config nonint do_i2c 0)?`,
    EACCES: `no permission to use ${busName}: add the user to the i2c group (sudo adduser $USER i2c), then log in again`,
    ENXIO: `no device answered at ${at} (${operation}): check the wiring and the address`,
    EREMOTEIO: `no device answered at ${at} (${operation}): check the wiring and the address`,
    EIO: `I/O error at ${at} (${operation}): check the wiring, pull-ups and power (${detail})`,
    ETIMEDOUT: `bus timed out at ${at} (${operation}): a device may be holding SDA low; power-cycle the sensors`,
    EBUSY: `${at} is busy (${operation}): a kernel driver owns this address; remove its dtoverlay or use another address`,
  };
  return new I2cError(code, address, messages[code]);
}

export class RealI2cBus implements I2cBus {
  private closed = false;

  constructor(
    private readonly bus: PromisifiedBus,
    readonly name: string,
  ) {}

  async write(address: number, data: Uint8Array): Promise<void> {
    checkAddress(address);
    checkLength('write length', data.length, I2C_TRANSFER_MAX);
    const buffer = Buffer.from(data);
    const { bytesWritten } = await this.run(address, 'write', () => this.bus.i2cWrite(address, buffer.length, buffer));
    if (bytesWritten !== buffer.length) throw this.short(address, 'write', bytesWritten, buffer.length);
  }

  async read(address: number, length: number): Promise<Buffer> {
    checkAddress(address);
    checkLength('read length', length, I2C_TRANSFER_MAX);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await this.run(address, 'read', () => this.bus.i2cRead(address, length, buffer));
    if (bytesRead !== length) throw this.short(address, 'read', bytesRead, length);
    return buffer;
  }

  async writeRegister(address: number, register: number, value: number): Promise<void> {
    checkAddress(address);
    checkByte('register', register);
    checkByte('value', value);
    await this.run(address, `write register ${hex(register)}`, () => this.bus.writeByte(address, register, value));
  }

  async readRegisters(address: number, register: number, length: number): Promise<Buffer> {
    checkAddress(address);
    checkByte('register', register);
    checkLength('register block length', length, I2C_BLOCK_MAX);
    const buffer = Buffer.alloc(length);
    const operation = `read ${length} bytes from register ${hex(register)}`;
    const { bytesRead } = await this.run(address, operation, () => this.bus.readI2cBlock(address, register, length, buffer));
    if (bytesRead !== length) throw this.short(address, operation, bytesRead, length);
    return buffer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.bus.close();
  }

  private async run<T>(address: number, operation: string, transfer: () => Promise<T>): Promise<T> {
    if (this.closed) throw new I2cError('EIO', address, `${this.name} is closed (${operation})`);
    try {
      return await transfer();
    } catch (err) {
      throw toI2cError(err, this.name, address, operation);
    }
  }

  private short(address: number, operation: string, got: number, wanted: number): I2cError {
    return new I2cError('EIO', address, `short transfer at ${hex(address)} on ${this.name} (${operation}): ${got} of ${wanted} bytes; check the wiring`);
  }
}

/**
 * i2c-bus opens the device file lazily, on the first transfer to each address; checking access up
 * front makes a missing or forbidden bus show at start, not at the first reading.
 */
async function openChecked(busNumber: number): Promise<PromisifiedBus> {
  await access(i2cDevicePath(busNumber), constants.R_OK | constants.W_OK);
  return i2c.openPromisified(busNumber);
}

/**
 * Opens /dev/i2c-`busNumber`. Rejects with I2cError ENOENT when the device file is missing (I²C not
 * enabled) and EACCES when the user may not open it.
 */
export async function openRealI2cBus(busNumber: number, open: OpenPromisified = openChecked): Promise<I2cBus> {
  if (!Number.isInteger(busNumber) || busNumber < 0) {
    throw new RangeError(`I²C bus number must be a non-negative integer, got ${String(busNumber)}`);
  }
  const name = i2cDevicePath(busNumber);
  try {
    return new RealI2cBus(await open(busNumber), name);
  } catch (err) {
    throw toI2cError(err, name, NO_ADDRESS, 'open');
  }
}
