/**
 * Base for virtual devices that look like a register file: the first byte of a write sets the register
 * pointer, further bytes are written to consecutive registers, and a read returns consecutive registers
 * from the pointer. This is how the BME280, the BMP180 and the kernel's i2c-stub behave.
 */
import type { VirtualI2cDevice } from './virtual-i2c-bus.ts';

export const REGISTER_COUNT = 256;

export abstract class RegisterFileDevice implements VirtualI2cDevice {
  protected pointer = 0;

  write(bytes: Uint8Array): void {
    const [first, ...values] = bytes;
    if (first === undefined) return;
    this.pointer = first;
    for (const value of values) {
      this.writeRegister(this.pointer, value);
      this.pointer = (this.pointer + 1) % REGISTER_COUNT;
    }
  }

  read(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      out[i] = this.readRegister(this.pointer) & 0xff;
      this.pointer = (this.pointer + 1) % REGISTER_COUNT;
    }
    return out;
  }

  protected abstract readRegister(register: number): number;
  protected abstract writeRegister(register: number, value: number): void;
}

/** 256 plain read/write registers, all zero at start: a generic device, like the kernel's i2c-stub. */
export class MemoryRegisterDevice extends RegisterFileDevice {
  readonly registers = new Uint8Array(REGISTER_COUNT);

  protected readRegister(register: number): number {
    return this.registers[register] ?? 0;
  }

  protected writeRegister(register: number, value: number): void {
    this.registers[register] = value;
  }
}
