import type { WeatherRecord } from './contract.ts';

/** One short human line per record, for the console of `npm start` and `hedgerow station`. */
export function describeRecord(stationId: string, r: WeatherRecord): string {
  const time = new Date(r.ts).toISOString().slice(11, 19);
  const parts = [
    part('air', r.ambient_temperature, 1, '°C'),
    part('ground', r.ground_temperature, 1, '°C'),
    part('', r.air_pressure, 1, ' hPa'),
    part('RH', r.humidity, 0, '%'),
    r.wind_speed === null ? 'wind —' : `wind ${r.wind_speed.toFixed(1)} km/h gust ${fmt(r.wind_gust_speed, 1)} from ${fmt(r.wind_direction, 0)}°`,
    part('rain', r.rainfall, 2, ' mm'),
    part('air quality', r.air_quality, 0, '%'),
  ];
  const problems = Object.entries(r.sensors).filter(([, s]) => s !== 'ok');
  const tail = problems.length > 0 ? `  [${problems.map(([n, s]) => `${n} ${s}`).join('; ')}]` : '';
  return `${stationId} ${time}Z  ${parts.join('  ')}${tail}`;
}

function part(label: string, value: number | null, digits: number, unit: string): string {
  const prefix = label ? `${label} ` : '';
  return `${prefix}${fmt(value, digits)}${value === null ? '' : unit}`;
}

function fmt(value: number | null, digits: number): string {
  return value === null ? '—' : value.toFixed(digits);
}
