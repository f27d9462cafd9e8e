import type { Logger } from 'pino';
import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import type { EdgeInput, EdgeListener } from './edge-input.ts';
import { detectGpioBase, GPIO_SYSFS_ROOT, sysfsNumber } from './gpio-base.ts';
import type { GpioBase } from './gpio-base.ts';
import { SensorError } from './sensor-error.ts';

/**
 * sysfs cannot set pull resistors, and the reed switches need one to read high when open. The Pi's
 * firmware sets it at boot from this config.txt line; without it the pin floats and counts noise.
 */
export const CONFIG_TXT = '/boot/firmware/config.txt';

/** The config.txt line that gives `pins` an input pull-up, e.g. `gpio=5,6=ip,pu`. */
export function pullUpConfigLine(pins: readonly number[]): string {
  return `gpio=${pins.join(',')}=ip,pu`;
}

/** The part of an onoff `Gpio` this input uses; lets tests stand in for the kernel. */
export interface GpioPin {
  watch(callback: (error: Error | null | undefined, value: number) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

/** Opens sysfs GPIO `sysfs` as a falling-edge input. */
export type GpioOpener = (sysfs: number) => GpioPin | Promise<GpioPin>;

export interface OnoffEdgeInputOptions {
  /** Sensor name for messages, e.g. "anemometer". */
  sensor: string;
  /** BCM pin number, e.g. 5 for the anemometer, 6 for the rain gauge. */
  bcmPin: number;
  /** Where to look for gpiochips (default /sys/class/gpio). */
  gpioRoot?: string;
  /** Skip detection and use this base (default: detected from gpioRoot). */
  base?: number;
  /** Timestamps edges (default: system clock). */
  clock?: Clock;
  log?: Logger;
  /** Default: onoff's `new Gpio(sysfs, 'in', 'falling')`, imported on first use. */
  open?: GpioOpener;
}

/** Falling edges of a real GPIO pin through onoff on sysfs, with the kernel 6.6+ base offset applied. */
export class OnoffEdgeInput implements EdgeInput {
  readonly name: string;
  private pin: GpioPin | undefined;

  constructor(private readonly options: OnoffEdgeInputOptions) {
    this.name = `${options.sensor} (BCM ${options.bcmPin})`;
  }

  async start(onEdge: EdgeListener): Promise<void> {
    await this.stop();
    const { bcmPin, sensor, log } = this.options;
    const clock = this.options.clock ?? systemClock;
    const found: GpioBase =
      this.options.base === undefined
        ? await detectGpioBase(this.options.gpioRoot)
        : { base: this.options.base, chip: null, label: null };
    const sysfs = sysfsNumber(bcmPin, found.base);
    let pin: GpioPin;
    try {
      pin = await (this.options.open ?? openWithOnoff)(sysfs);
    } catch (error) {
      throw gpioOpenError(error, { sensor, bcmPin, sysfs, found, gpioRoot: this.options.gpioRoot ?? GPIO_SYSFS_ROOT });
    }
    let reportedWatchError = false;
    pin.watch((error) => {
      if (error) {
        // epoll errors repeat on every edge; one line says it, more would flood the log.
        if (!reportedWatchError) log?.warn({ err: error }, `${sensor}: GPIO ${bcmPin} watch error`);
        reportedWatchError = true;
        return;
      }
      onEdge(clock.now());
    });
    this.pin = pin;
    log?.info(
      `${sensor} on BCM ${bcmPin} (sysfs ${sysfs}${found.label ? `, ${found.label} base ${found.base}` : ''}), falling edge; ` +
        `its pull-up comes from ${CONFIG_TXT} (${pullUpConfigLine([bcmPin])})`,
    );
  }

  async stop(): Promise<void> {
    const pin = this.pin;
    this.pin = undefined;
    if (pin === undefined) return;
    pin.unwatchAll();
    pin.unexport();
  }
}

async function openWithOnoff(sysfs: number): Promise<GpioPin> {
  const { Gpio } = await import('onoff');
  return new Gpio(sysfs, 'in', 'falling');
}

interface OpenContext {
  sensor: string;
  bcmPin: number;
  sysfs: number;
  found: GpioBase;
  gpioRoot: string;
}

/** Turns an export/open failure into a message that says what to do on a Pi. */
export function gpioOpenError(error: unknown, context: OpenContext): SensorError {
  const { sensor, bcmPin, sysfs, found, gpioRoot } = context;
  const code = (error as { code?: unknown } | null)?.code;
  const where = `GPIO ${bcmPin} is sysfs number ${sysfs} on this kernel`;
  switch (code) {
    case 'EINVAL':
      return new SensorError(
        'fault',
        sensor,
        found.label === null
          ? `${where}, and the kernel refused it (EINVAL). Kernels 6.6+ number the header from the pin ` +
              `controller's base (usually 512, or 571 on a Pi 5), but no pinctrl-bcm2711/bcm2835/rp1 chip ` +
              `was found under ${gpioRoot}: check \`cat ${gpioRoot}/gpiochip*/label\`.`
          : `${where} (${found.label} base ${found.base}), and the kernel refused it (EINVAL): ` +
              `is another overlay or driver using BCM ${bcmPin}? Check the dtoverlay lines in ${CONFIG_TXT}.`,
        { cause: error },
      );
    case 'EACCES':
    case 'EPERM':
      return new SensorError(
        'fault',
        sensor,
        `cannot open ${where} (${code}): add the user to the gpio group ` +
          `(sudo usermod -aG gpio $USER, then log in again) or run the station as a service with GPIO access.`,
        { cause: error },
      );
    case 'EBUSY':
      return new SensorError(
        'fault',
        sensor,
        `${where}, and it is busy (EBUSY): another program or overlay holds BCM ${bcmPin}; stop it or pick another pin.`,
        { cause: error },
      );
    case 'ENOENT':
      return new SensorError(
        'missing',
        sensor,
        `has no sysfs GPIO (${GPIO_SYSFS_ROOT}/export not found): this is not a Raspberry Pi, or the kernel lacks ` +
          `CONFIG_GPIO_SYSFS. Use --hardware virtual to run without the pin.`,
        { cause: error },
      );
    default:
      return new SensorError(
        'fault',
        sensor,
        `could not open ${where}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
  }
}
