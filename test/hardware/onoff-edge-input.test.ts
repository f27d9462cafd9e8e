import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnoffEdgeInput, pullUpConfigLine } from '../../hardware/onoff-edge-input.ts';
import type { GpioPin } from '../../hardware/onoff-edge-input.ts';
import { SensorError } from '../../hardware/sensor-error.ts';
import { ManualClock } from './manual-clock.ts';

const log = pino({ level: 'silent' });
let pi4Root: string;

beforeAll(async () => {
  pi4Root = await mkdtemp(join(tmpdir(), 'hedgerow-onoff-'));
  await mkdir(join(pi4Root, 'gpiochip512'));
  await writeFile(join(pi4Root, 'gpiochip512', 'label'), 'pinctrl-bcm2711\n');
  await writeFile(join(pi4Root, 'gpiochip512', 'base'), '512\n');
});

afterAll(async () => {
  await rm(pi4Root, { recursive: true, force: true });
});

class FakePin implements GpioPin {
  callback: ((error: Error | null | undefined, value: number) => void) | undefined;
  unexported = false;
  watch(callback: (error: Error | null | undefined, value: number) => void): void {
    this.callback = callback;
  }
  unwatchAll(): void {
    this.callback = undefined;
  }
  unexport(): void {
    this.unexported = true;
  }
}

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: fake`), { code });
}

async function startError(open: () => never, gpioRoot = pi4Root): Promise<SensorError> {
  const input = new OnoffEdgeInput({ sensor: 'anemometer', bcmPin: 5, gpioRoot, log, open });
  const error = await input.start(() => {}).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SensorError);
  return error as SensorError;
}

describe('OnoffEdgeInput', () => {
  it('opens the BCM pin at its detected sysfs number and timestamps each edge', async () => {
    const clock = new ManualClock(42_000);
    const pin = new FakePin();
    const opened: number[] = [];
    const input = new OnoffEdgeInput({
      sensor: 'anemometer',
      bcmPin: 5,
      gpioRoot: pi4Root,
      clock,
      log,
      open: (sysfs) => (opened.push(sysfs), pin),
    });
    const edges: number[] = [];
    await input.start((at) => edges.push(at));
    expect(opened).toEqual([517]);
    pin.callback?.(null, 0);
    clock.advance(250);
    pin.callback?.(null, 0);
    pin.callback?.(new Error('epoll failed'), 0);
    expect(edges).toEqual([42_000, 42_250]);
    await input.stop();
    expect(pin.unexported).toBe(true);
    expect(pin.callback).toBeUndefined();
  });

  it('uses a given base without reading sysfs', async () => {
    const opened: number[] = [];
    const input = new OnoffEdgeInput({ sensor: 'rain gauge', bcmPin: 6, base: 571, open: (n) => (opened.push(n), new FakePin()) });
    await input.start(() => {});
    expect(opened).toEqual([577]);
    await input.stop();
  });

  it('explains EINVAL with the sysfs number it tried', async () => {
    const error = await startError(() => {
      throw errno('EINVAL');
    });
    expect(error.kind).toBe('fault');
    expect(error.message).toContain('GPIO 5 is sysfs number 517 on this kernel');
    expect(error.message).toContain('pinctrl-bcm2711 base 512');
  });

  it('explains EINVAL with base 0 as a missing pinctrl chip', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'hedgerow-onoff-empty-'));
    try {
      const error = await startError(() => {
        throw errno('EINVAL');
      }, empty);
      expect(error.message).toContain('GPIO 5 is sysfs number 5 on this kernel');
      expect(error.message).toContain('571 on a Pi 5');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('tells the user to join the gpio group on EACCES', async () => {
    const error = await startError(() => {
      throw errno('EACCES');
    });
    expect(error.kind).toBe('fault');
    expect(error.message).toContain('usermod -aG gpio');
  });

  it('reports a busy pin and an unknown failure as faults', async () => {
    expect(
      (
        await startError(() => {
          throw errno('EBUSY');
        })
      ).message,
    ).toContain('busy');
    expect(
      (
        await startError(() => {
          throw new Error('weird');
        })
      ).message,
    ).toContain('weird');
  });

  it('gives the pull-up line for config.txt', () => {
    expect(pullUpConfigLine([5, 6])).toBe('gpio=5,6=ip,pu');
  });

  // The default opener loads the real onoff package; on a machine without sysfs GPIO its export fails.
  it.runIf(!existsSync('/sys/class/gpio'))('with real onoff and no sysfs GPIO, reports the pin missing', async () => {
    const input = new OnoffEdgeInput({ sensor: 'anemometer', bcmPin: 5, gpioRoot: pi4Root, log });
    const error = await input.start(() => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SensorError);
    expect((error as SensorError).kind).toBe('missing');
    expect((error as SensorError).message).toContain('--hardware virtual');
  });
});
