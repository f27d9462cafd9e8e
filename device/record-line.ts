import { WEATHER_FIELD_TABLE, withSymbol, type WeatherField, type WeatherRecord } from '../hardware/core/contract.ts';

/** The short line's layout: which fields, in what order, under what short label, with how many decimals. Units come from the contract. */
const LINE: ReadonlyArray<readonly [WeatherField, string, number]> = [
  ['ambient_temperature', 'air', 1],
  ['ground_temperature', 'ground', 1],
  ['air_pressure', '', 1],
  ['humidity', 'RH', 0],
];
const TAIL: ReadonlyArray<readonly [WeatherField, string, number]> = [
  ['rainfall', 'rain', 2],
  ['air_quality', 'air quality', 0],
];

/** One short human line per record, for the console of `npm start` and `hedgerow station`. */
export function describeRecord(stationId: string, r: WeatherRecord): string {
  const time = new Date(r.ts).toISOString().slice(11, 19);
  const wind =
    r.wind_speed === null
      ? 'wind —'
      : `wind ${withSymbol(r.wind_speed.toFixed(1), 'wind_speed')} gust ${fmt(r.wind_gust_speed, 1)} from ${fmt(r.wind_direction, 0)}${WEATHER_FIELD_TABLE.wind_direction.symbol}`;
  const parts = [...LINE.map(([f, label, digits]) => part(r, f, label, digits)), wind, ...TAIL.map(([f, label, digits]) => part(r, f, label, digits))];
  const problems = Object.entries(r.sensors).filter(([, s]) => s !== 'ok');
  const tail = problems.length > 0 ? `  [${problems.map(([n, s]) => `${n} ${s}`).join('; ')}]` : '';
  return `${stationId} ${time}Z  ${parts.join('  ')}${tail}`;
}

function part(r: WeatherRecord, field: WeatherField, label: string, digits: number): string {
  const value = r[field];
  const prefix = label ? `${label} ` : '';
  return `${prefix}${value === null ? fmt(value, digits) : withSymbol(fmt(value, digits), field)}`;
}

function fmt(value: number | null, digits: number): string {
  return value === null ? '—' : value.toFixed(digits);
}
