import { describe, expect, it } from 'vitest';
import { roundReading, WEATHER_FIELD_TABLE, WEATHER_FIELDS } from '../../../hardware/core/contract.ts';

describe('wire contract: rounding a reading to its field', () => {
  it('rounds half away from zero to the field\'s decimals, never to -0', () => {
    expect(roundReading('ambient_temperature', 12.25)).toBe(12.3);
    expect(roundReading('ambient_temperature', -2.25)).toBe(-2.3);
    expect(roundReading('ground_temperature', -0.04)).toBe(0);
    expect(Object.is(roundReading('ground_temperature', -0.04), -0)).toBe(false);
    expect(roundReading('air_pressure', 1012.3456)).toBe(1012.3);
    expect(roundReading('humidity', 64.5)).toBe(65);
    expect(roundReading('wind_direction', 224.6)).toBe(225);
    expect(roundReading('wind_gust_speed', 41.26)).toBe(41.3);
    // A rain-gauge tip keeps two decimals, so ten tips still add up to 2.79 mm, not 3.0.
    expect(roundReading('rainfall', 0.2794)).toBe(0.28);
    expect(roundReading('rainfall', 10 * 0.2794)).toBe(2.79);
  });

  it('gives every field a whole number of decimals between 0 and 3', () => {
    for (const field of WEATHER_FIELDS) expect([0, 1, 2, 3]).toContain(WEATHER_FIELD_TABLE[field].decimals);
  });
});
