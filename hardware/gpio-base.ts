import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Since kernel 6.6 (current Raspberry Pi OS) the sysfs GPIO numbers of the Pi's own header no longer
 * start at 0: they start at the base of the pin controller's gpiochip, usually 512 (Pi 4 and older) or
 * 571 (Pi 5, RP1). onoff takes raw sysfs numbers, so BCM 5 must become base + 5, or the export fails
 * with EINVAL.
 */
export const GPIO_SYSFS_ROOT = '/sys/class/gpio';

/** Labels of the gpiochip that drives the 40-pin header: BCM2711 (Pi 4), BCM2835 (Pi 0-3), RP1 (Pi 5). */
export const PI_GPIO_CHIP_LABELS: readonly string[] = ['pinctrl-bcm2711', 'pinctrl-bcm2835', 'pinctrl-rp1'];

const CHIP_DIR = /^gpiochip\d+$/;

export interface GpioBase {
  /** Offset to add to a BCM pin number to get its sysfs number; 0 on old kernels. */
  base: number;
  /** The chip the base came from, e.g. "gpiochip512", or null when none matched. */
  chip: string | null;
  /** Its label, e.g. "pinctrl-bcm2711", or null when none matched. */
  label: string | null;
}

/**
 * Finds the header's GPIO base under `root` (default /sys/class/gpio). With no chip carrying one of the
 * Pi labels (an old kernel, or no sysfs GPIO at all) the base is 0, as it was before 6.6.
 */
export async function detectGpioBase(root: string = GPIO_SYSFS_ROOT): Promise<GpioBase> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return { base: 0, chip: null, label: null };
  }
  for (const chip of entries.filter((entry) => CHIP_DIR.test(entry)).sort(byChipNumber)) {
    const label = await readTrimmed(join(root, chip, 'label'));
    if (label === undefined || !PI_GPIO_CHIP_LABELS.includes(label)) continue;
    const base = Number.parseInt((await readTrimmed(join(root, chip, 'base'))) ?? '', 10);
    if (Number.isInteger(base) && base >= 0) return { base, chip, label };
  }
  return { base: 0, chip: null, label: null };
}

/** The sysfs number onoff needs for BCM pin `bcm`. */
export function sysfsNumber(bcm: number, base: number): number {
  return base + bcm;
}

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

function byChipNumber(a: string, b: string): number {
  return Number(a.slice('gpiochip'.length)) - Number(b.slice('gpiochip'.length));
}
