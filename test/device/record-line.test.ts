import { describe, expect, it } from 'vitest';
import type { WeatherRecord } from '../../hardware/core/contract.ts';
import { describeRecord } from '../../device/record-line.ts';

const full: WeatherRecord = {
  ts: Date.UTC(2026, 2, 1, 14, 5, 9), ambient_temperature: 12.34, ground_temperature: -0.5, air_quality: 12.4, air_pressure: 1012.25,
  humidity: 65.4, wind_direction: 225, wind_speed: 3.14, wind_gust_speed: 5.0, rainfall: 0.2794, sensors: { bme280: 'ok' },
};

// The lines the record printer gave before it took its units from the contract's field table.
describe('describeRecord', () => {
  it('prints every field with its unit', () => {
    expect(describeRecord('s1', full)).toBe('s1 14:05:09Z  air 12.3°C  ground -0.5°C  1012.3 hPa  RH 65%  wind 3.1 km/h gust 5.0 from 225°  rain 0.28 mm  air quality 12%');
  });

  it('prints a dash without a unit for a null field, and the sensors that are not ok', () => {
    const empty: WeatherRecord = {
      ...full, ambient_temperature: null, ground_temperature: null, air_quality: null, air_pressure: null, humidity: null,
      wind_direction: null, wind_speed: null, wind_gust_speed: null, rainfall: null, sensors: { bme280: 'missing', ds18b20: 'fault: CRC' },
    };
    expect(describeRecord('s1', empty)).toBe('s1 14:05:09Z  air —  ground —  —  RH —  wind —  rain —  air quality —  [bme280 missing; ds18b20 fault: CRC]');
    expect(describeRecord('s1', { ...full, wind_gust_speed: null, wind_direction: null })).toBe(
      's1 14:05:09Z  air 12.3°C  ground -0.5°C  1012.3 hPa  RH 65%  wind 3.1 km/h gust — from —°  rain 0.28 mm  air quality 12%',
    );
  });
});
