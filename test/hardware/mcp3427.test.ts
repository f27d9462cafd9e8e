import { describe, expect, it } from 'vitest';
import { Mcp3427, airQualityPercent, configFor, decodeResult, rawToVolts } from '../../hardware/mcp3427.ts';
import { SensorError } from '../../hardware/sensor-error.ts';
import { VirtualI2cBus } from '../../hardware/virtual-i2c-bus.ts';
import { VirtualMcp3427 } from '../../hardware/virtual-mcp3427.ts';
import { rejection } from './rejection.ts';
import { SteppingClock } from './stepping-clock.ts';

const LSB = 2.048 / 32767;

describe('MCP3427 conversions', () => {
  it('configures one-shot 16-bit gain 1: 0x88 for CH0, 0xA8 for CH1 (as the Oracle station wrote)', () => {
    expect(configFor(0)).toBe(0x88);
    expect(configFor(1)).toBe(0xa8);
  });

  it('reads the ready bit (bit 7 of the third byte, 0 = new data) and the signed 16-bit code', () => {
    expect(decodeResult(Uint8Array.of(0x7f, 0xff, 0x08))).toEqual({ ready: true, raw: 32767 });
    expect(decodeResult(Uint8Array.of(0x80, 0x00, 0x08))).toEqual({ ready: true, raw: -32768 });
    expect(decodeResult(Uint8Array.of(0xff, 0xff, 0x88))).toEqual({ ready: false, raw: -1 });
    expect(decodeResult(Uint8Array.of(0x12, 0x34, 0x28))).toEqual({ ready: true, raw: 0x1234 });
  });

  it('turns codes into volts with 2.048 V full scale at 32767', () => {
    expect(rawToVolts(32767)).toBeCloseTo(2.048, 12);
    expect(rawToVolts(-32767)).toBeCloseTo(-2.048, 12);
    expect(rawToVolts(0)).toBe(0);
    expect(rawToVolts(16384)).toBeCloseTo(16384 * LSB, 12);
  });

  it("computes air quality the Oracle station's way, 100·(max − value)/max, clipped to 0..100", () => {
    expect(airQualityPercent(0)).toBe(100);
    expect(airQualityPercent(32767)).toBe(0);
    expect(airQualityPercent(8192)).toBeCloseTo((100 * (32767 - 8192)) / 32767, 12);
    expect(airQualityPercent(-40)).toBe(100);
  });
});

function setup(address = 0x69) {
  const clock = new SteppingClock();
  const bus = new VirtualI2cBus();
  const adc = new VirtualMcp3427({ clock });
  bus.attach(address, adc);
  return { clock, bus, adc };
}

const sensorError = (promise: Promise<unknown>): Promise<SensorError> => rejection(promise, SensorError);

describe('Mcp3427 driver on a virtual bus', () => {
  it('reads the voltage of the selected channel', async () => {
    const { bus, adc, clock } = setup();
    adc.setVoltage(1.2345, 0);
    adc.setVoltage(-0.5, 1);
    const ch0 = await new Mcp3427({ bus, address: 0x69, clock }).read();
    const ch1 = await new Mcp3427({ bus, address: 0x69, channel: 1, clock }).read();
    expect(Math.abs(ch0.volts - 1.2345)).toBeLessThanOrEqual(LSB / 2);
    expect(Math.abs(ch1.volts + 0.5)).toBeLessThanOrEqual(LSB / 2);
    expect(ch1.raw).toBeLessThan(0);
  });

  it('reports a missing ADC under its given name', async () => {
    const bus = new VirtualI2cBus({ name: '/dev/i2c-1' });
    const adc = new Mcp3427({ bus, address: 0x6a, name: 'air quality ADC', clock: new SteppingClock() });
    const err = await sensorError(adc.open());
    expect(err.kind).toBe('missing');
    expect(err.sensor).toBe('air quality ADC');
    expect(err.message).toContain('not found at 0x6a on /dev/i2c-1');
  });

  it('polls the ready bit a few times, then calls a never-ready ADC a fault; recovers when it converts again', async () => {
    const { bus, adc, clock } = setup();
    const sensor = new Mcp3427({ bus, address: 0x69, clock });
    adc.setFault('never-ready');
    const err = await sensorError(sensor.read());
    expect(err.kind).toBe('fault');
    expect(err.message).toMatch(/conversion never finished at 0x69/);
    const waits = clock.slept.length;
    expect(waits).toBeGreaterThan(2);
    adc.setFault(null);
    adc.setVoltage(0.75);
    expect((await sensor.read()).volts).toBeCloseTo(0.75, 4);
  });

  it('turns bus faults into sensor faults', async () => {
    const { bus, clock } = setup();
    const sensor = new Mcp3427({ bus, address: 0x69, clock });
    bus.injectFault(0x69, 'eio-mid-read');
    expect((await sensorError(sensor.read())).kind).toBe('fault');
    bus.injectFault(0x69, 'stuck-bus');
    expect((await sensorError(sensor.read())).message).toMatch(/timed out/);
    bus.injectFault(0x69, 'no-ack');
    expect((await sensorError(sensor.read())).kind).toBe('missing');
    bus.injectFault(0x69, null);
    await expect(sensor.read()).resolves.toHaveProperty('volts');
  });

  it('refuses a channel the part does not have', () => {
    expect(() => new Mcp3427({ bus: new VirtualI2cBus(), address: 0x69, channel: 2 as 0 })).toThrow(RangeError);
  });
});
