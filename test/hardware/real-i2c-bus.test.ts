import type { PromisifiedBus } from 'i2c-bus';
import { describe, expect, it } from 'vitest';
import { I2cError } from '../../hardware/i2c-bus.ts';
import { RealI2cBus, openRealI2cBus, toI2cError } from '../../hardware/real-i2c-bus.ts';
import { VirtualI2cBus } from '../../hardware/virtual-i2c-bus.ts';
import { MemoryRegisterDevice } from '../../hardware/virtual-register-device.ts';
import { describeI2cBusConformance } from './i2c-bus.conformance.ts';
import { rejection } from './rejection.ts';

const ERRNO: Record<string, number> = { ENXIO: 6, EREMOTEIO: 121, EIO: 5, ETIMEDOUT: 110 };

/** An error shaped like the ones the i2c-bus native addon raises (Nan::ErrnoException). */
function nativeError(code: string, errno: number, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}, ${syscall}`), { code, errno, syscall });
}

/**
 * Stands in for the i2c-bus addon where no /dev/i2c-N exists: the same promisified calls, answered by
 * a virtual bus, failing with errno-style errors (never I2cError), so RealI2cBus's own mapping is what
 * the tests exercise.
 */
function fakeAddon(virtual: VirtualI2cBus, overrides: Partial<Record<'bytesRead', number>> = {}): PromisifiedBus {
  const native = async <T>(syscall: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof I2cError) throw nativeError(err.code, ERRNO[err.code] ?? 5, syscall);
      throw err;
    }
  };
  const bus = {
    i2cWrite: (addr: number, length: number, buffer: Buffer) =>
      native('i2cWrite', async () => (await virtual.write(addr, buffer.subarray(0, length)), { bytesWritten: length, buffer })),
    i2cRead: (addr: number, length: number, buffer: Buffer) =>
      native('i2cRead', async () => {
        (await virtual.read(addr, length)).copy(buffer);
        return { bytesRead: overrides.bytesRead ?? length, buffer };
      }),
    writeByte: (addr: number, cmd: number, byte: number) => native('writeByte', () => virtual.writeRegister(addr, cmd, byte)),
    readI2cBlock: (addr: number, cmd: number, length: number, buffer: Buffer) =>
      native('readI2cBlock', async () => {
        (await virtual.readRegisters(addr, cmd, length)).copy(buffer);
        return { bytesRead: overrides.bytesRead ?? length, buffer };
      }),
    close: async () => undefined,
  };
  return bus as unknown as PromisifiedBus;
}

function virtualWithDevice(): VirtualI2cBus {
  const virtual = new VirtualI2cBus();
  virtual.attach(0x76, new MemoryRegisterDevice());
  return virtual;
}

describeI2cBusConformance('RealI2cBus over a stand-in for the i2c-bus addon', async () => {
  const bus = await openRealI2cBus(1, async () => fakeAddon(virtualWithDevice()));
  return { bus, deviceAddress: 0x76, emptyAddress: 0x77 };
});

describe('openRealI2cBus', () => {
  it('tells the user to enable I²C when /dev/i2c-N does not exist (through the real i2c-bus package)', async () => {
    const err = await rejection(openRealI2cBus(250), I2cError);
    expect(err.code).toBe('ENOENT');
    expect(err.message).toBe('/dev/i2c-250 not found: is I²C enabled (sudo raspi-config nonint do_i2c 0)?');
  });

  it('tells the user to join the i2c group when opening is not allowed', async () => {
    const denied = async (): Promise<PromisifiedBus> => {
      throw nativeError('EACCES', -13, 'open');
    };
    const err = await rejection(openRealI2cBus(1, denied), I2cError);
    expect(err.code).toBe('EACCES');
    expect(err.message).toMatch(/\/dev\/i2c-1.*i2c group/);
  });

  it('rejects a bus number that cannot exist', async () => {
    await expect(openRealI2cBus(-1, async () => fakeAddon(new VirtualI2cBus()))).rejects.toBeInstanceOf(RangeError);
  });

  it('names the bus /dev/i2c-N', async () => {
    const bus = await openRealI2cBus(3, async () => fakeAddon(new VirtualI2cBus()));
    expect(bus.name).toBe('/dev/i2c-3');
  });
});

describe('RealI2cBus error mapping', () => {
  it('maps each kernel errno to its I2cError code, by code or by number', () => {
    const cases: Array<[unknown, string, boolean]> = [
      [nativeError('ENXIO', 6, 'i2cRead'), 'ENXIO', true],
      [nativeError('EREMOTEIO', 121, 'readI2cBlock'), 'EREMOTEIO', true],
      [{ errno: -121 }, 'EREMOTEIO', true],
      [nativeError('EIO', 5, 'writeByte'), 'EIO', false],
      [nativeError('ETIMEDOUT', 110, 'i2cWrite'), 'ETIMEDOUT', false],
      [nativeError('EBUSY', 16, 'setAddr'), 'EBUSY', false],
      [nativeError('EPERM', 1, 'open'), 'EACCES', false],
      [new Error('something odd'), 'EIO', false],
    ];
    for (const [err, code, noAck] of cases) {
      const mapped = toI2cError(err, '/dev/i2c-1', 0x40, 'read');
      expect(mapped.code).toBe(code);
      expect(mapped.isNoAck).toBe(noAck);
      expect(mapped.address).toBe(0x40);
    }
  });

  it('says where and what to do', () => {
    expect(toI2cError(nativeError('ENXIO', 6, 'i2cRead'), '/dev/i2c-1', 0x40, 'read').message).toBe(
      'no device answered at 0x40 on /dev/i2c-1 (read): check the wiring and the address',
    );
    expect(toI2cError(nativeError('ETIMEDOUT', 110, 'x'), '/dev/i2c-1', 0x40, 'read').message).toMatch(/power-cycle/);
    expect(toI2cError(new Error('something odd'), '/dev/i2c-1', 0x40, 'read').message).toMatch(/something odd/);
  });

  it('turns addon errors during transfers into I2cError with the address', async () => {
    const virtual = virtualWithDevice();
    const bus = new RealI2cBus(fakeAddon(virtual), '/dev/i2c-1');
    virtual.injectFault(0x76, 'eio-mid-read');
    const err = await rejection(bus.readRegisters(0x76, 0xd0, 1), I2cError);
    expect(err.code).toBe('EIO');
    expect(err.address).toBe(0x76);
    expect(err.message).toContain('/dev/i2c-1');
  });

  it('treats a short read as an I/O error', async () => {
    const bus = new RealI2cBus(fakeAddon(virtualWithDevice(), { bytesRead: 1 }), '/dev/i2c-1');
    const err = await rejection(bus.readRegisters(0x76, 0, 4), I2cError);
    expect(err.code).toBe('EIO');
    expect(err.message).toMatch(/1 of 4 bytes/);
  });
});
