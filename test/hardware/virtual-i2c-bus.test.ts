import { describe, expect, it } from 'vitest';
import { I2cError } from '../../hardware/i2c-bus.ts';
import { VirtualI2cBus } from '../../hardware/virtual-i2c-bus.ts';
import type { VirtualI2cDevice } from '../../hardware/virtual-i2c-bus.ts';
import { MemoryRegisterDevice } from '../../hardware/virtual-register-device.ts';
import { describeI2cBusConformance } from './i2c-bus.conformance.ts';
import { rejection } from './rejection.ts';

describeI2cBusConformance('VirtualI2cBus', async () => {
  const bus = new VirtualI2cBus();
  bus.attach(0x50, new MemoryRegisterDevice());
  return { bus, deviceAddress: 0x50, emptyAddress: 0x51 };
});

const failure = (promise: Promise<unknown>): Promise<I2cError> => rejection(promise, I2cError);

function setup(): { bus: VirtualI2cBus; device: MemoryRegisterDevice } {
  const bus = new VirtualI2cBus({ name: 'virtual i2c-7' });
  const device = new MemoryRegisterDevice();
  bus.attach(0x50, device);
  return { bus, device };
}

describe('VirtualI2cBus', () => {
  it('uses the given name in its messages', async () => {
    const { bus } = setup();
    expect(bus.name).toBe('virtual i2c-7');
    expect((await failure(bus.read(0x22, 1))).message).toContain('virtual i2c-7');
  });

  it('refuses a second device at one address, and a detached address stops answering', async () => {
    const { bus } = setup();
    expect(() => bus.attach(0x50, new MemoryRegisterDevice())).toThrow(/already/);
    bus.detach(0x50);
    expect((await failure(bus.readRegisters(0x50, 0, 1))).code).toBe('ENXIO');
    bus.attach(0x50, new MemoryRegisterDevice());
    await expect(bus.readRegisters(0x50, 0, 1)).resolves.toHaveLength(1);
  });

  it('no-ack makes one address answer ENXIO until cleared', async () => {
    const { bus, device } = setup();
    const other = new MemoryRegisterDevice();
    other.registers[3] = 42;
    bus.attach(0x51, other);
    bus.injectFault(0x50, 'no-ack');
    const err = await failure(bus.writeRegister(0x50, 1, 2));
    expect(err.code).toBe('ENXIO');
    expect(err.isNoAck).toBe(true);
    expect(device.registers[1]).toBe(0);
    expect([...(await bus.readRegisters(0x51, 3, 1))]).toEqual([42]);
    bus.injectFault(0x50, null);
    await bus.writeRegister(0x50, 1, 2);
    expect(device.registers[1]).toBe(2);
  });

  it('eio-mid-read fails reads after the pointer write went through, and leaves writes working', async () => {
    const { bus, device } = setup();
    device.registers.set([11, 22, 33], 0x60);
    bus.injectFault(0x50, 'eio-mid-read');
    const err = await failure(bus.readRegisters(0x50, 0x61, 2));
    expect(err.code).toBe('EIO');
    expect(err.isNoAck).toBe(false);
    await bus.writeRegister(0x50, 0x70, 5);
    expect(device.registers[0x70]).toBe(5);
    expect((await failure(bus.read(0x50, 1))).code).toBe('EIO');
    bus.injectFault(0x50, null);
    await bus.write(0x50, Uint8Array.of(0x61));
    expect([...(await bus.read(0x50, 2))]).toEqual([22, 33]);
  });

  it('the pointer write of a failed register read reached the device', async () => {
    const { bus, device } = setup();
    device.registers.set([7, 8], 0x10);
    bus.injectFault(0x50, 'eio-mid-read');
    await failure(bus.readRegisters(0x50, 0x10, 1));
    bus.injectFault(0x50, null);
    expect([...(await bus.read(0x50, 2))]).toEqual([7, 8]);
  });

  it('stuck-bus times out every transfer on the bus, even to empty addresses, until cleared', async () => {
    const { bus } = setup();
    bus.attach(0x51, new MemoryRegisterDevice());
    bus.injectFault(0x51, 'stuck-bus');
    expect((await failure(bus.readRegisters(0x50, 0, 1))).code).toBe('ETIMEDOUT');
    expect((await failure(bus.write(0x33, Uint8Array.of(1)))).code).toBe('ETIMEDOUT');
    bus.injectFault(0x51, null);
    await expect(bus.readRegisters(0x50, 0, 1)).resolves.toHaveLength(1);
  });

  it('pads a short device reply with 0xFF, as a pulled-up bus reads', async () => {
    const bus = new VirtualI2cBus();
    const short: VirtualI2cDevice = { write: () => undefined, read: () => Uint8Array.of(1) };
    bus.attach(0x10, short);
    expect([...(await bus.read(0x10, 3))]).toEqual([1, 0xff, 0xff]);
  });

  it('passes on an I2cError a device raises (a device NACKing while busy)', async () => {
    const bus = new VirtualI2cBus();
    const busy: VirtualI2cDevice = {
      write: () => undefined,
      read: () => {
        throw new I2cError('ENXIO', 0x10, 'busy');
      },
    };
    bus.attach(0x10, busy);
    expect((await failure(bus.read(0x10, 1))).isNoAck).toBe(true);
  });
});
