/**
 * The behaviour every I2cBus must share, run against each implementation (the virtual bus, the real
 * bus over i2c-stub where the kernel allows it). The fixture provides a plain register-file device:
 * 256 writable registers, a pointer set by the first byte written that auto-increments, the way the
 * kernel's i2c-stub and most sensors behave.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { I2cError } from '../../hardware/i2c-bus.ts';
import type { I2cBus } from '../../hardware/i2c-bus.ts';
import { rejection } from './rejection.ts';

export interface I2cBusFixture {
  bus: I2cBus;
  /** Address of the register-file device. */
  deviceAddress: number;
  /** An address where nothing answers. */
  emptyAddress: number;
  cleanup?: () => Promise<void>;
}

export function describeI2cBusConformance(label: string, makeFixture: () => Promise<I2cBusFixture>): void {
  describe(`I2cBus conformance: ${label}`, () => {
    let f: I2cBusFixture;
    beforeEach(async () => {
      f = await makeFixture();
    });
    afterEach(async () => {
      await f.bus.close();
      await f.cleanup?.();
    });

    it('has a name for messages', () => {
      expect(f.bus.name.length).toBeGreaterThan(0);
    });

    it('reads back a register it wrote', async () => {
      await f.bus.writeRegister(f.deviceAddress, 0x10, 0xa5);
      await f.bus.writeRegister(f.deviceAddress, 0x11, 0x5a);
      expect([...(await f.bus.readRegisters(f.deviceAddress, 0x10, 1))]).toEqual([0xa5]);
      expect([...(await f.bus.readRegisters(f.deviceAddress, 0x11, 1))]).toEqual([0x5a]);
    });

    it('reads a block of consecutive registers written in one plain write', async () => {
      await f.bus.write(f.deviceAddress, Uint8Array.of(0x20, 1, 2, 3, 250));
      const block = await f.bus.readRegisters(f.deviceAddress, 0x20, 4);
      expect(Buffer.isBuffer(block)).toBe(true);
      expect([...block]).toEqual([1, 2, 3, 250]);
    });

    it('a pointer write then a plain read is the same as a register read', async () => {
      await f.bus.write(f.deviceAddress, Uint8Array.of(0x30, 9, 8, 7));
      await f.bus.write(f.deviceAddress, Uint8Array.of(0x30));
      const plain = await f.bus.read(f.deviceAddress, 3);
      expect(plain).toHaveLength(3);
      expect([...plain]).toEqual([...(await f.bus.readRegisters(f.deviceAddress, 0x30, 3))]);
    });

    it('reads up to 32 registers in one block', async () => {
      const values = Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);
      await f.bus.write(f.deviceAddress, Uint8Array.of(0x40, ...values));
      expect([...(await f.bus.readRegisters(f.deviceAddress, 0x40, 32))]).toEqual(values);
    });

    it('reports no acknowledge where nothing answers, naming the address and the bus', async () => {
      const attempts = [
        f.bus.write(f.emptyAddress, Uint8Array.of(1)),
        f.bus.read(f.emptyAddress, 1),
        f.bus.writeRegister(f.emptyAddress, 0, 0),
        f.bus.readRegisters(f.emptyAddress, 0, 1),
      ];
      for (const attempt of attempts) {
        const e = await rejection(attempt, I2cError);
        expect(e.isNoAck).toBe(true);
        expect(e.address).toBe(f.emptyAddress);
        expect(e.message).toContain(f.bus.name);
      }
    });

    it('rejects bad arguments with RangeError before touching the wire', async () => {
      for (const address of [0x80, -1, 1.5]) {
        await expect(f.bus.read(address, 1)).rejects.toBeInstanceOf(RangeError);
        await expect(f.bus.write(address, Uint8Array.of(0))).rejects.toBeInstanceOf(RangeError);
        await expect(f.bus.writeRegister(address, 0, 0)).rejects.toBeInstanceOf(RangeError);
        await expect(f.bus.readRegisters(address, 0, 1)).rejects.toBeInstanceOf(RangeError);
      }
      await expect(f.bus.writeRegister(f.deviceAddress, 256, 0)).rejects.toBeInstanceOf(RangeError);
      await expect(f.bus.writeRegister(f.deviceAddress, 0, 256)).rejects.toBeInstanceOf(RangeError);
      await expect(f.bus.readRegisters(f.deviceAddress, 0, 0)).rejects.toBeInstanceOf(RangeError);
      await expect(f.bus.readRegisters(f.deviceAddress, 0, 33)).rejects.toBeInstanceOf(RangeError);
      await expect(f.bus.read(f.deviceAddress, 0)).rejects.toBeInstanceOf(RangeError);
      await expect(f.bus.write(f.deviceAddress, new Uint8Array(0))).rejects.toBeInstanceOf(RangeError);
    });

    it('refuses transfers once closed, and closing twice is harmless', async () => {
      await f.bus.close();
      await expect(f.bus.readRegisters(f.deviceAddress, 0, 1)).rejects.toBeInstanceOf(I2cError);
      await expect(f.bus.write(f.deviceAddress, Uint8Array.of(0))).rejects.toBeInstanceOf(I2cError);
      await expect(f.bus.close()).resolves.toBeUndefined();
    });
  });
}
