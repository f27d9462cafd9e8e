import { hostname } from 'node:os';
import { z } from 'zod';
import { ARGENT_KMH_PER_HZ, WEATHER_HAT_KMH_PER_HZ } from '../hardware/anemometer.ts';
import { VIRTUAL_SITES } from '../hardware/virtual-site.ts';
import { THING_NAME, thingName } from '../hardware/core/contract.ts';

/**
 * The station's part of the config file (`station:` and `hardware:`). Every key has a default, so an
 * empty file, or none, runs a station. Units are in the key names or documented beside them.
 */

const ANEMOMETER_FACTOR_HINT = `km/h for one anemometer closure per second, more than 0: ${Math.round(WEATHER_HAT_KMH_PER_HZ * 100) / 100} for the Weather HAT kit, ${ARGENT_KMH_PER_HZ} for SparkFun's (Argent) kit`;

/** An I²C address as 0x76 (YAML reads hex numbers) or "0x76". */
const i2cAddress = z.union([
  z.number().int().min(0x03).max(0x77),
  z
    .string()
    .regex(/^0x[0-9a-fA-F]{1,2}$/, 'expected an I²C address such as 0x76')
    .transform((s) => Number.parseInt(s, 16))
    .pipe(z.number().int().min(0x03, 'I²C addresses run from 0x03 to 0x77').max(0x77, 'I²C addresses run from 0x03 to 0x77')),
]);

/** A duration as seconds (300) or with a unit ("5m", "30s", "1h", "250ms"); the value is milliseconds. */
const DURATION_HINT = 'expected seconds, or a number with ms, s, m or h, e.g. "5m"';
export const duration = z.union([z.number(), z.string()], { error: DURATION_HINT }).transform((value, ctx) => {
  if (typeof value === 'number') {
    // Checked here rather than with .positive() in the union, whose failure reads only "Invalid input".
    if (Number.isFinite(value) && value > 0) return value * 1000;
    ctx.addIssue({ code: 'custom', message: `a duration must be more than 0 s, e.g. 300 or "5m"` });
    return z.NEVER;
  }
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(value.trim());
  if (!match) {
    ctx.addIssue({ code: 'custom', message: DURATION_HINT });
    return z.NEVER;
  }
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * factor;
});

/** The hostname, cleaned into a valid thing name, so two stations on one broker differ without setup. */
export function defaultStationId(): string {
  const cleaned = hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  return THING_NAME.test(cleaned) ? cleaned : 'station';
}

export const stationSettings = z
  .object({
    /** Station id: topic level and deviceId. Default: the hostname. */
    id: thingName.default(defaultStationId),
    /** Time between records. Default 5 minutes, as the Oracle station used. */
    interval: duration.default(300_000).pipe(z.number().min(1000, 'the interval must be at least 1 s')),
    /** Which sensors to expect: a BME280 build, the Oracle Weather HAT, or whatever answers on the bus. */
    build: z.enum(['auto', 'bme280', 'weather-hat']).default('auto'),
  })
  .strict();

export const hardwareSettings = z
  .object({
    /** real: i2c-bus/onoff/sysfs; virtual: simulated devices; auto: real where an I²C bus exists, else virtual (said so in the log). */
    mode: z.enum(['auto', 'real', 'virtual']).default('auto'),
    /** /dev/i2c-N. */
    i2cBus: z.number().int().min(0).max(31).default(1),
    /** BME280 address, or auto to try 0x76 then 0x77. */
    bme280Address: z.union([z.literal('auto'), i2cAddress]).default('auto'),
    htu21dAddress: i2cAddress.default(0x40),
    bmp180Address: i2cAddress.default(0x77),
    /** MCP3427 that reads the wind vane (CH0). */
    windVaneAddress: i2cAddress.default(0x69),
    /** MCP3427 on the air quality board. */
    airQualityAddress: i2cAddress.default(0x6a),
    /** How often the wind vane is read between records; the record's direction is their vector mean. */
    windVaneSampleInterval: duration.default(5000),
    /** Where the kernel's w1-gpio driver lists 1-Wire devices; the DS18B20 ground probe is 28-*. */
    oneWireRoot: z.string().default('/sys/bus/w1/devices'),
    /** Set false on a build without the ground probe, so it is not reported missing. */
    groundProbe: z.boolean().default(true),
    /** What a virtual station's simulated weather is modelled on (ignored on real hardware). */
    virtualWeather: z
      .object({
        /** field (open ground), riverside (damp, frost-prone hollow) or hilltop (colder, windier, lower pressure). Default field. */
        site: z.enum(VIRTUAL_SITES).default('field'),
        /** Stations with the same region share climate and fronts, as neighbours do. Default: the station id. */
        region: z.string().min(1).max(64).optional(),
      })
      .strict()
      .prefault({}),
    gpio: z
      .object({
        /** BCM pin numbers; the sysfs base of current kernels is added automatically. */
        anemometerPin: z.number().int().min(0).max(53).default(5),
        rainPin: z.number().int().min(0).max(53).default(6),
        windDebounceMs: z.number().min(0).max(100).default(1),
        /**
         * km/h for one anemometer closure per second; it differs by kit. Default: the Weather HAT kit's
         * ≈ 1.2 (2 closures per rotation, 1 rotation/s = 2.4 km/h); SparkFun's (Argent) kit is 2.4.
         */
        anemometerKmhPerHz: z
          .number()
          .positive({ error: ANEMOMETER_FACTOR_HINT })
          .max(100, { error: ANEMOMETER_FACTOR_HINT })
          .default(WEATHER_HAT_KMH_PER_HZ),
        rainDebounceMs: z.number().min(0).max(5000).default(300),
        sysfsRoot: z.string().default('/sys/class/gpio'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type StationSettings = z.output<typeof stationSettings>;
export type HardwareSettings = z.output<typeof hardwareSettings>;
