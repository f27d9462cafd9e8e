import type { WeatherField, WeatherFields } from '../hardware/core/contract.ts';

/** The field list lives in the wire contract (WEATHER_FIELD_TABLE); re-exported for the sampler's imports. */
export { WEATHER_FIELDS, type WeatherField, type WeatherFields } from '../hardware/core/contract.ts';

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
