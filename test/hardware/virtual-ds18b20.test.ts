import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ds18b20, parseW1Slave } from '../../hardware/ds18b20.ts';
import type { SensorError } from '../../hardware/sensor-error.ts';
import { dallasCrc8, POWER_ON_SCRATCHPAD, scratchpad, VirtualDs18b20, w1SlaveText } from '../../hardware/virtual-ds18b20.ts';
import { ManualClock } from './manual-clock.ts';

describe('DS18B20 scratchpad', () => {
  it('computes the Dallas CRC-8 of real scratchpads', () => {
    expect(dallasCrc8([0x72, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x0e, 0x10])).toBe(0x57);
    expect(dallasCrc8(POWER_ON_SCRATCHPAD.slice(0, 8))).toBe(POWER_ON_SCRATCHPAD[8]);
  });

  it.each([
    [125, '07D0'],
    [85, '0550'],
    [25.0625, '0191'],
    [10.125, '00A2'],
    [0.5, '0008'],
    [0, '0000'],
    [-0.5, 'FFF8'],
    [-10.125, 'FF5E'],
    [-25.0625, 'FE6F'],
    [-55, 'FC90'],
  ])('encodes %d °C as the datasheet word 0x%s', (celsius, word) => {
    // The kernel's integer maths truncates half milli-degrees: -25.0625 °C prints as t=-25062.
    const bytes = scratchpad(celsius);
    expect(bytes[0]! | (bytes[1]! << 8)).toBe(Number.parseInt(word, 16));
    expect(dallasCrc8(bytes.slice(0, 8))).toBe(bytes[8]);
    const expected = celsius === 85 ? expect.objectContaining({ ok: false }) : { ok: true, milliC: Math.trunc(celsius * 1000) };
    expect(parseW1Slave(w1SlaveText(bytes))).toEqual(expected);
  });
});

describe('VirtualDs18b20 with the real reader', () => {
  let root: string;
  let temperature = 12.3;
  const clock = new ManualClock(0);
  const noSleep = async (): Promise<void> => {};

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hedgerow-vw1-'));
    temperature = 12.3;
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes a w1_slave file the reader decodes, at 1/16 °C resolution', async () => {
    const virtual = new VirtualDs18b20({ root, temperature: () => temperature, clock });
    await virtual.start();
    const text = await readFile(join(root, virtual.deviceId, 'w1_slave'), 'utf8');
    expect(text).toMatch(/^([0-9a-f]{2} ){9}: crc=[0-9a-f]{2} YES\n([0-9a-f]{2} ){9}t=12312\n$/);
    const probe = new Ds18b20({ root, sleep: noSleep });
    expect(await probe.read()).toBe(12.312);
    temperature = -4.2;
    await virtual.refresh();
    expect(await probe.read()).toBe(-4.187);
    await virtual.stop();
    expect(clock.pending).toBe(0);
  });

  it('shows each fault as the reader reports it, and recovers', async () => {
    const virtual = new VirtualDs18b20({ root, temperature: () => temperature, clock });
    await virtual.start();
    const probe = new Ds18b20({ root, sleep: noSleep });
    const failure = async (): Promise<SensorError> => (await probe.read().catch((e: unknown) => e)) as SensorError;

    await virtual.setFault('crc');
    expect(await failure()).toMatchObject({ kind: 'fault', message: expect.stringContaining('CRC check failed') });
    await virtual.setFault('garbage');
    expect(await failure()).toMatchObject({ kind: 'fault', message: expect.stringContaining('unreadable') });
    await virtual.setFault('power-on');
    expect(await failure()).toMatchObject({ kind: 'fault', message: expect.stringContaining('85 °C') });
    await virtual.setFault('zeros');
    expect(await failure()).toMatchObject({ kind: 'fault', message: expect.stringContaining('all zeros') });
    await virtual.setFault('missing');
    expect(await failure()).toMatchObject({ kind: 'missing', message: expect.stringContaining('dtoverlay=w1-gpio') });
    await virtual.setFault(null);
    expect(await probe.read()).toBe(12.312);
    await virtual.stop();
  });
});
