import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectGpioBase, sysfsNumber } from '../../hardware/gpio-base.ts';

const dirs: string[] = [];

/** Builds a fake /sys/class/gpio with the given chips (name → label, base). */
async function fakeSysfs(chips: Record<string, { label: string; base: number }>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'hedgerow-gpio-'));
  dirs.push(root);
  await writeFile(join(root, 'export'), '');
  for (const [name, chip] of Object.entries(chips)) {
    await mkdir(join(root, name));
    await writeFile(join(root, name, 'label'), `${chip.label}\n`);
    await writeFile(join(root, name, 'base'), `${chip.base}\n`);
  }
  return root;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('detectGpioBase', () => {
  it('finds the BCM2711 chip at 512 on a Pi 4 with kernel 6.6+', async () => {
    const root = await fakeSysfs({
      gpiochip512: { label: 'pinctrl-bcm2711', base: 512 },
      gpiochip570: { label: 'raspberrypi-exp-gpio', base: 570 },
    });
    const found = await detectGpioBase(root);
    expect(found).toEqual({ base: 512, chip: 'gpiochip512', label: 'pinctrl-bcm2711' });
    expect(sysfsNumber(5, found.base)).toBe(517);
    expect(sysfsNumber(6, found.base)).toBe(518);
  });

  it('finds the RP1 chip at 571 on a Pi 5, ignoring the SoC chips before it', async () => {
    const root = await fakeSysfs({
      gpiochip512: { label: 'gpio-brcmstb@107d508500', base: 512 },
      gpiochip544: { label: 'gpio-brcmstb@107d508520', base: 544 },
      gpiochip571: { label: 'pinctrl-rp1', base: 571 },
    });
    const found = await detectGpioBase(root);
    expect(found.base).toBe(571);
    expect(found.label).toBe('pinctrl-rp1');
    expect(sysfsNumber(5, found.base)).toBe(576);
  });

  it('gives base 0 on an old kernel whose BCM2835 chip starts at 0', async () => {
    const root = await fakeSysfs({ gpiochip0: { label: 'pinctrl-bcm2835', base: 0 } });
    expect(await detectGpioBase(root)).toEqual({ base: 0, chip: 'gpiochip0', label: 'pinctrl-bcm2835' });
  });

  it('gives base 0 when no chip has a Pi label', async () => {
    const root = await fakeSysfs({ gpiochip100: { label: 'some-expander', base: 100 } });
    expect(await detectGpioBase(root)).toEqual({ base: 0, chip: null, label: null });
  });

  it('gives base 0 when there is no sysfs GPIO directory at all', async () => {
    const root = join(tmpdir(), 'hedgerow-gpio-does-not-exist', String(process.pid));
    expect(await detectGpioBase(root)).toEqual({ base: 0, chip: null, label: null });
  });

  it('skips a Pi-labelled chip whose base file is unreadable', async () => {
    const root = await fakeSysfs({ gpiochip600: { label: 'pinctrl-bcm2711', base: 600 } });
    await writeFile(join(root, 'gpiochip600', 'base'), 'garbage');
    expect((await detectGpioBase(root)).base).toBe(0);
  });
});
