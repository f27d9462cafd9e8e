import type { WeatherRecord } from './contract.ts';

/** The measured fields of a weather record: everything but the timestamp and the status map. */
export type WeatherFields = Omit<WeatherRecord, 'ts' | 'sensors'>;
export type WeatherField = keyof WeatherFields;

export const WEATHER_FIELDS: readonly WeatherField[] = [
  'ambient_temperature',
  'ground_temperature',
  'air_quality',
  'air_pressure',
  'humidity',
  'wind_direction',
  'wind_speed',
  'wind_gust_speed',
  'rainfall',
];

/**
 * One sensor as the sampler sees it. Drivers throw `SensorError` (hardware/sensor-error.ts); the
 * sampler turns that into the record's status for this sensor and nulls its fields.
 *
 * Point sensors (BME280, DS18B20…) are read once per record. Interval sensors (anemometer, rain
 * gauge, wind vane) collect between records and hand over what they collected on `read()`.
 */
export interface StationSensor {
  /** Name in the record's `sensors` map and in log lines, e.g. "bme280", "anemometer". */
  readonly name: string;
  /** Fields this sensor fills; they are null in a record when the sensor is missing or faulty. */
  readonly fields: readonly WeatherField[];
  /** Find and set up the device. Called at start and again after a failure, so a re-plugged sensor recovers. */
  open(): Promise<void>;
  /** One reading. Interval sensors return what they collected since the previous read and reset. */
  read(): Promise<Partial<WeatherFields>>;
  close(): Promise<void>;
}
