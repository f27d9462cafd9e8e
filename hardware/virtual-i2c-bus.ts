/**
 * An I2cBus with no wires: virtual devices attached at addresses answer raw transfers, so a register
 * read is a pointer write followed by a read, exactly as on the wire, and the real drivers run
 * unchanged. Faults are injected per address to show how drivers and the sampler cope.
 */
import { I2cError, hex } from './i2c-bus.ts';
import type { I2cBus } from './i2c-bus.ts';
import { I2C_BLOCK_MAX, I2C_TRANSFER_MAX, checkAddress, checkByte, checkLength } from './i2c-transfer-checks.ts';

/** A device as the bus sees it: one write transfer in, or `length` bytes out per read transfer. */
export interface VirtualI2cDevice {
  /** The bytes of one master write (START, address+W, bytes, STOP). May throw I2cError (e.g. ENXIO for a NACK). */
  write(bytes: Uint8Array): void;
  /** The bytes sent for one master read of `length`. Fewer bytes read as 0xFF (SDA pulled high). May throw I2cError. */
  read(length: number): Uint8Array;
}

/**
 * - `no-ack`: the device stops answering (ENXIO), as if unplugged.
 * - `eio-mid-read`: writes work, but every read fails with EIO, also after a register pointer write succeeded.
 * - `stuck-bus`: the device holds SDA low, so every transfer on the whole bus times out (ETIMEDOUT).
 */
export type VirtualI2cFault = 'no-ack' | 'eio-mid-read' | 'stuck-bus';

export interface VirtualI2cBusOptions {
  /** Name used in messages. Default "virtual i2c-1". */
  name?: string;
}

/** Bits a read of an idle, pulled-up bus returns. */
const IDLE_BYTE = 0xff;

export class VirtualI2cBus implements I2cBus {
  readonly name: string;
  private readonly devices = new Map<number, VirtualI2cDevice>();
  private readonly faults = new Map<number, VirtualI2cFault>();
  private closed = false;

  constructor(options: VirtualI2cBusOptions = {}) {
    this.name = options.name ?? 'virtual i2c-1';
  }

  attach(address: number, device: VirtualI2cDevice): void {
    checkAddress(address);
    if (this.devices.has(address)) throw new Error(`${this.name}: address ${hex(address)} already has a device attached`);
    this.devices.set(address, device);
  }

  detach(address: number): void {
    this.devices.delete(address);
  }

  /** The device at `address`, if any. */
  device(address: number): VirtualI2cDevice | undefined {
    return this.devices.get(address);
  }

  /** Sets or (with null) clears the fault at `address`. */
  injectFault(address: number, fault: VirtualI2cFault | null): void {
    checkAddress(address);
    if (fault === null) this.faults.delete(address);
    else this.faults.set(address, fault);
  }

  async write(address: number, data: Uint8Array): Promise<void> {
    checkAddress(address);
    checkLength('write length', data.length, I2C_TRANSFER_MAX);
    this.target(address, 'write').write(Uint8Array.from(data));
  }

  async read(address: number, length: number): Promise<Buffer> {
    checkAddress(address);
    checkLength('read length', length, I2C_TRANSFER_MAX);
    return this.readFrom(this.target(address, 'read'), address, length, 'read');
  }

  async writeRegister(address: number, register: number, value: number): Promise<void> {
    checkAddress(address);
    checkByte('register', register);
    checkByte('value', value);
    this.target(address, `write register ${hex(register)}`).write(Uint8Array.of(register, value));
  }

  async readRegisters(address: number, register: number, length: number): Promise<Buffer> {
    checkAddress(address);
    checkByte('register', register);
    checkLength('register block length', length, I2C_BLOCK_MAX);
    const operation = `read ${length} bytes from register ${hex(register)}`;
    const device = this.target(address, operation);
    device.write(Uint8Array.of(register));
    return this.readFrom(device, address, length, operation);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The device that will take part in a transfer, after the faults that stop it before any byte moves. */
  private target(address: number, operation: string): VirtualI2cDevice {
    if (this.closed) throw new I2cError('EIO', address, `${this.name} is closed (${operation})`);
    if ([...this.faults.values()].includes('stuck-bus')) {
      throw new I2cError('ETIMEDOUT', address, `bus timed out at ${hex(address)} on ${this.name} (${operation}): a device is holding SDA low; power-cycle the sensors`);
    }
    const device = this.devices.get(address);
    if (device === undefined || this.faults.get(address) === 'no-ack') {
      throw new I2cError('ENXIO', address, `no device answered at ${hex(address)} on ${this.name} (${operation}): check the wiring and the address`);
    }
    return device;
  }

  private readFrom(device: VirtualI2cDevice, address: number, length: number, operation: string): Buffer {
    if (this.faults.get(address) === 'eio-mid-read') {
      throw new I2cError('EIO', address, `I/O error at ${hex(address)} on ${this.name} (${operation}): check the wiring, pull-ups and power`);
    }
    const bytes = device.read(length);
    const out = Buffer.alloc(length, IDLE_BYTE);
    out.set(bytes.subarray(0, length));
    return out;
  }
}
