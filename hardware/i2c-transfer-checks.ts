/**
 * Argument checks shared by every I2cBus implementation, so the real and the virtual bus reject the same
 * programming errors the same way (a RangeError before anything touches the wire) and the conformance
 * suite can hold both to it.
 */

/** 7-bit addressing: 0x00..0x7F. */
export const I2C_ADDRESS_MAX = 0x7f;
/** The SMBus "I2C block" transfer behind readRegisters() carries at most 32 bytes. */
export const I2C_BLOCK_MAX = 32;
/** Plain transfers have no protocol limit; this bounds a runaway length before it allocates. */
export const I2C_TRANSFER_MAX = 4096;

export function checkAddress(address: number): void {
  if (!Number.isInteger(address) || address < 0 || address > I2C_ADDRESS_MAX) {
    throw new RangeError(`I²C address must be an integer 0x00..0x7f, got ${String(address)}`);
  }
}

export function checkByte(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new RangeError(`${what} must be an integer 0..255, got ${String(value)}`);
  }
}

export function checkLength(what: string, length: number, max: number): void {
  if (!Number.isInteger(length) || length < 1 || length > max) {
    throw new RangeError(`${what} must be an integer 1..${max}, got ${String(length)}`);
  }
}
