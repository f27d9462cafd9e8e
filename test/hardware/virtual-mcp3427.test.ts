import { describe, expect, it } from 'vitest';
import { Mcp3427, decodeResult } from '../../hardware/mcp3427.ts';
import { VirtualI2cBus } from '../../hardware/virtual-i2c-bus.ts';
import { VirtualMcp3427 } from '../../hardware/virtual-mcp3427.ts';
import { SteppingClock } from './stepping-clock.ts';

function setup() {
  const clock = new SteppingClock();
  const bus = new VirtualI2cBus();
  const adc = new VirtualMcp3427({ clock });
  bus.attach(0x6a, adc);
  return { clock, bus, adc };
}

async function result(bus: VirtualI2cBus) {
  return decodeResult(await bus.read(0x6a, 3));
}

describe('VirtualMcp3427', () => {
  it('round trip: the driver reads back the voltage set, within one 16-bit step', async () => {
    const { bus, adc, clock } = setup();
    const sensor = new Mcp3427({ bus, address: 0x6a, clock });
    for (const volts of [-2.04, -1, -0.0001, 0, 0.3, 1.5, 2.047]) {
      adc.setVoltage(volts);
      expect(Math.abs((await sensor.read()).volts - volts)).toBeLessThanOrEqual(2.048 / 32767 / 2);
    }
  });

  it('clips inputs beyond full scale to the largest codes', async () => {
    const { bus, adc, clock } = setup();
    const sensor = new Mcp3427({ bus, address: 0x6a, clock });
    adc.setVoltage(3.3);
    expect((await sensor.read()).raw).toBe(32767);
    adc.setVoltage(-3.3);
    expect((await sensor.read()).raw).toBe(-32768);
  });

  it('keeps the ready bit at 1 until a one-shot conversion is done, and again once the result is read', async () => {
    const { bus, adc, clock } = setup();
    adc.setVoltage(1);
    await bus.write(0x6a, Uint8Array.of(0x88));
    clock.advance(30);
    expect((await result(bus)).ready).toBe(false);
    clock.advance(40);
    const done = await result(bus);
    expect(done.ready).toBe(true);
    expect(done.raw).toBe(Math.round((1 * 32767) / 2.048));
    expect((await result(bus)).ready).toBe(false);
  });

  it('honours the sample rate and gain bits: 12 bit converts in ~4 ms with codes to 2047; gain 2 doubles', async () => {
    const { bus, adc, clock } = setup();
    adc.setVoltage(0.5);
    await bus.write(0x6a, Uint8Array.of(0x80)); // CH0, one-shot, 12 bit, gain 1
    clock.advance(5);
    const twelve = await result(bus);
    expect(twelve).toEqual({ ready: true, raw: Math.round((0.5 * 2047) / 2.048) });
    await bus.write(0x6a, Uint8Array.of(0x89)); // 16 bit, gain 2
    clock.advance(70);
    expect((await result(bus)).raw).toBe(Math.round((0.5 * 2 * 32767) / 2.048));
  });

  it('selects the channel from bits 6..5', async () => {
    const { bus, adc, clock } = setup();
    adc.setVoltage(0.1, 0);
    adc.setVoltage(0.9, 1);
    await bus.write(0x6a, Uint8Array.of(0xa8));
    clock.advance(70);
    expect((await result(bus)).raw).toBe(Math.round((0.9 * 32767) / 2.048));
  });

  it('converts again and again in continuous mode', async () => {
    const { bus, adc, clock } = setup();
    adc.setVoltage(0.2);
    await bus.write(0x6a, Uint8Array.of(0x18)); // continuous, 16 bit
    clock.advance(70);
    expect((await result(bus)).ready).toBe(true);
    adc.setVoltage(0.4);
    clock.advance(70);
    const next = await result(bus);
    expect(next.ready).toBe(true);
    expect(next.raw).toBe(Math.round((0.4 * 32767) / 2.048));
  });

  it('never reports ready while the never-ready fault is on', async () => {
    const { bus, adc, clock } = setup();
    adc.setFault('never-ready');
    await bus.write(0x6a, Uint8Array.of(0x88));
    clock.advance(1000);
    expect((await result(bus)).ready).toBe(false);
  });
});
