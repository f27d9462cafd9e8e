/**
 * Every driver reports trouble with this one error type, so the sampler can turn any of them into a
 * record status without knowing the sensor: `missing` when nothing answers (wrong address, not wired,
 * I²C off), `fault` when something answers wrongly (CRC error, wrong chip id, EIO mid-read).
 */
export type SensorErrorKind = 'missing' | 'fault';

export class SensorError extends Error {
  constructor(
    readonly kind: SensorErrorKind,
    /** Sensor name as shown to users, e.g. "BME280". */
    readonly sensor: string,
    /** What went wrong and what to do next, e.g. "not found at 0x76/0x77 on /dev/i2c-1: is I²C enabled (sudo raspi-config nonint do_i2c 0)?" */
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${sensor} ${message}`, options);
    this.name = 'SensorError';
  }
}
