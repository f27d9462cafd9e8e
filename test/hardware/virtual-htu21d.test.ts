import { describe, expect, it } from 'vitest';
import { Htu21d, htu21dCrc8 } from '../../hardware/htu21d.ts';
import { I2cError } from '../../hardware/i2c-bus.ts';
import { VirtualHtu21d, signalFor } from '../../hardware/virtual-htu21d.ts';
import { VirtualI2cBus } from '../../hardware/virtual-i2c-bus.ts';
import { rejection } from './rejection.ts';
import { SteppingClock } from './stepping-clock.ts';

function setup() {
  const clock = new SteppingClock();
  const bus = new VirtualI2cBus();
  const chip = new VirtualHtu21d({ clock });
  bus.attach(0x40, chip);
  return { clock, bus, chip };
}

async function frame(bus: VirtualI2cBus, clock: SteppingClock, command: number): Promise<Buffer> {
  await bus.write(0x40, Uint8Array.of(command));
  clock.advance(50);
  return bus.read(0x40, 3);
}

describe('VirtualHtu21d', () => {
  it('round trip: the real driver reads back what was set, within the sensor resolution', async () => {
    const { bus, chip, clock } = setup();
    const sensor = new Htu21d({ bus, clock });
    for (const temperature of [-40, -7.3, 0, 18.25, 25, 44.4, 60]) {
      for (const humidity of [0, 12.5, 50, 87.3, 100]) {
        chip.set({ temperature, humidity });
        const reading = await sensor.read();
        // 14-bit temperature: 0.011 °C steps; 12-bit humidity: 0.031 %RH steps.
        expect(Math.abs(reading.temperature - temperature)).toBeLessThan(0.006);
        expect(Math.abs(reading.humidity - humidity)).toBeLessThan(0.02);
      }
    }
  });

  it('sends frames with a valid CRC and the status bit that names the quantity', async () => {
    const { bus, clock } = setup();
    const t = await frame(bus, clock, 0xf3);
    const h = await frame(bus, clock, 0xf5);
    expect(htu21dCrc8(t.subarray(0, 2))).toBe(t[2]);
    expect(htu21dCrc8(h.subarray(0, 2))).toBe(h[2]);
    expect((t[1] ?? 0) & 0x02).toBe(0);
    expect((h[1] ?? 0) & 0x02).toBe(0x02);
  });

  it('NACKs a read while converting, as in no-hold master mode', async () => {
    const { bus, clock } = setup();
    await bus.write(0x40, Uint8Array.of(0xf3));
    clock.advance(20);
    expect((await rejection(bus.read(0x40, 3), I2cError)).isNoAck).toBe(true);
    clock.advance(30);
    await expect(bus.read(0x40, 3)).resolves.toHaveLength(3);
    // The result is read once; a second read has nothing to send.
    await expect(bus.read(0x40, 3)).rejects.toBeInstanceOf(I2cError);
  });

  it('answers hold-master commands straight away', async () => {
    const { bus } = setup();
    await bus.write(0x40, Uint8Array.of(0xe3));
    await expect(bus.read(0x40, 3)).resolves.toHaveLength(3);
  });

  it('keeps a user register that soft reset restores to 0x02, and is deaf for 15 ms after reset', async () => {
    const { bus, clock } = setup();
    await bus.write(0x40, Uint8Array.of(0xe6, 0x83));
    await bus.write(0x40, Uint8Array.of(0xe7));
    expect([...(await bus.read(0x40, 1))]).toEqual([0x83]);
    await bus.write(0x40, Uint8Array.of(0xfe));
    await expect(bus.write(0x40, Uint8Array.of(0xe7))).rejects.toBeInstanceOf(I2cError);
    clock.advance(15);
    await bus.write(0x40, Uint8Array.of(0xe7));
    expect([...(await bus.read(0x40, 1))]).toEqual([0x02]);
  });

  it('sends a wrong CRC while the bad-crc fault is on', async () => {
    const { bus, chip, clock } = setup();
    chip.setFault('bad-crc');
    const bad = await frame(bus, clock, 0xf5);
    expect(htu21dCrc8(bad.subarray(0, 2))).not.toBe(bad[2]);
    chip.setFault(null);
    const good = await frame(bus, clock, 0xf5);
    expect(htu21dCrc8(good.subarray(0, 2))).toBe(good[2]);
  });

  it('keeps signals inside what 14 and 12 bits can show', () => {
    expect(signalFor('temperature', 500) & 0x03).toBe(0);
    expect(signalFor('temperature', 500)).toBe(0xfffc);
    expect(signalFor('humidity', -50)).toBe(0x0002);
    expect(signalFor('humidity', 50) & 0x0f).toBe(0x02);
  });
});
