/**
 * One translation from bus errors to sensor statuses for every I²C driver: nothing answering means the
 * sensor is missing; anything else (EIO, a timeout, a bad CRC, a wrong chip id) means it is faulty.
 */
import { I2cError, hex } from './i2c-bus.ts';
import type { I2cBus } from './i2c-bus.ts';
import { SensorError } from './sensor-error.ts';

/** What to try when nothing answers at all. */
export const ENABLE_I2C_HINT = 'is I²C enabled (sudo raspi-config nonint do_i2c 0)? Check the wiring and the address';

/** Where the sensor was looked for, e.g. "0x76/0x77 on /dev/i2c-1". */
export function location(bus: I2cBus, addresses: number | readonly number[]): string {
  const list = typeof addresses === 'number' ? [addresses] : addresses;
  return `${list.map(hex).join('/')} on ${bus.name}`;
}

/** A SensorError for `err`, raised while doing `operation` with `sensor` at `address`. */
export function sensorErrorFrom(err: unknown, sensor: string, bus: I2cBus, address: number, operation: string): SensorError {
  if (err instanceof SensorError) return err;
  const where = location(bus, address);
  if (err instanceof I2cError) {
    if (err.isNoAck) return new SensorError('missing', sensor, `not found at ${where}: ${ENABLE_I2C_HINT}`, { cause: err });
    const what: Record<string, string> = {
      ETIMEDOUT: `bus timed out at ${where} (${operation}): a device is holding the bus; power-cycle the sensors`,
      EBUSY: `${where} is claimed by a kernel driver (${operation}): remove its dtoverlay or use another address`,
      EACCES: `no permission to use ${bus.name}: add the user to the i2c group (sudo adduser $USER i2c), then log in again`,
      ENOENT: `${bus.name} not found: is I²C enabled (sudo raspi-config nonint do_i2c 0)?`,
    };
    const message = what[err.code] ?? `I/O error at ${where} (${operation}): check the wiring, pull-ups and power`;
    return new SensorError('fault', sensor, message, { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new SensorError('fault', sensor, `failed at ${where} (${operation}): ${detail}`, { cause: err });
}

/** A fault found in the data itself (CRC, chip id, a skipped measurement): `problem at where: nextStep`. */
export function dataFault(sensor: string, bus: I2cBus, address: number, problem: string, nextStep: string): SensorError {
  return new SensorError('fault', sensor, `${problem} at ${location(bus, address)}: ${nextStep}`);
}
