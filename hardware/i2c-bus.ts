/**
 * The I²C bus as the drivers see it: raw transfers, plus the register helpers every sensor uses.
 * Two implementations share this interface and one conformance suite: `RealI2cBus` (i2c-bus on
 * /dev/i2c-N) and `VirtualI2cBus` (virtual devices that answer the same register protocol).
 */
export interface I2cBus {
  /** Human name used in messages, e.g. "/dev/i2c-1" or "virtual i2c-1". */
  readonly name: string;
  /** Plain write of `data` to `address` (no register pointer). */
  write(address: number, data: Uint8Array): Promise<void>;
  /** Plain read of `length` bytes from `address`. */
  read(address: number, length: number): Promise<Buffer>;
  /** Write one byte to register `register`. */
  writeRegister(address: number, register: number, value: number): Promise<void>;
  /** Read `length` bytes starting at register `register` (write pointer, repeated start, read). */
  readRegisters(address: number, register: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Errno-style codes the kernel's I²C layer gives, which drivers turn into sensor statuses. */
export type I2cErrorCode = 'ENXIO' | 'EREMOTEIO' | 'EIO' | 'ETIMEDOUT' | 'ENOENT' | 'EACCES' | 'EBUSY';

export class I2cError extends Error {
  constructor(
    readonly code: I2cErrorCode,
    readonly address: number,
    message: string,
  ) {
    super(message);
    this.name = 'I2cError';
  }

  /** True when nothing answered at the address: the sensor is missing, not faulty. */
  get isNoAck(): boolean {
    return this.code === 'ENXIO' || this.code === 'EREMOTEIO';
  }
}

export function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}
