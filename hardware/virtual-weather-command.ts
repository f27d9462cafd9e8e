import { z } from 'zod';
import { WEATHER_FIELD_TABLE, type WeatherField } from './core/contract.ts';
import type { Weather, WeatherOverride } from './virtual-weather.ts';

/**
 * The command that changes a virtual station's weather while it runs (a teacher's "now it freezes", an
 * end-to-end frost test): JSON on `cmd/weather/<stationId>/virtual-weather`, keyed by record field names,
 * e.g. `{"ambient_temperature": -3, "ground_temperature": -1}`. Each key holds until the next command;
 * `{}` clears them all and the model takes over again.
 */

export const virtualWeatherTopic = (stationId: string) => `cmd/weather/${stationId}/virtual-weather`;

/** Record field (or rain rate) → the model quantity it sets. */
const QUANTITIES = {
  ambient_temperature: 'temperature',
  ground_temperature: 'groundTemperature',
  air_pressure: 'pressure',
  humidity: 'humidity',
  air_quality: 'airQuality',
  wind_speed: 'windSpeedKmh',
  wind_direction: 'windDirectionDeg',
  rain_rate: 'rainRateMmPerHour',
} as const satisfies Record<string, keyof Weather>;

export type VirtualWeatherKey = keyof typeof QUANTITIES;
export const VIRTUAL_WEATHER_KEYS = Object.keys(QUANTITIES) as VirtualWeatherKey[];

/** A record field's range from the wire contract, so an override is a reading the cloud would take. */
function field(name: WeatherField) {
  const { min, max, unit } = WEATHER_FIELD_TABLE[name];
  return z.number({ error: `${name} is a number in ${unit}` }).min(min, `${name} below ${min} ${unit} is not a real reading`).max(max, `${name} above ${max} ${unit} is not a real reading`);
}

export const virtualWeatherCommand = z.strictObject(
  {
    ambient_temperature: field('ambient_temperature').optional(),
    ground_temperature: field('ground_temperature').optional(),
    air_pressure: field('air_pressure').optional(),
    humidity: field('humidity').optional(),
    air_quality: field('air_quality').optional(),
    wind_speed: field('wind_speed').optional(),
    wind_direction: field('wind_direction').max(359.9, 'wind_direction is in [0, 360)').optional(),
    /** mm/h at every instant (a record's rainfall is mm since the last one). */
    rain_rate: z.number({ error: 'rain_rate is a number in mm/h' }).min(0).max(500).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}: use ${VIRTUAL_WEATHER_KEYS.join(', ')}` : undefined) },
);
export type VirtualWeatherCommand = z.output<typeof virtualWeatherCommand>;

/** A command payload as the model's override, or why it is refused (in words for the log). */
export function parseVirtualWeatherCommand(payload: Buffer | string): { command: VirtualWeatherCommand; override: WeatherOverride } | { problem: string } {
  let body: unknown;
  try {
    body = JSON.parse(payload.toString());
  } catch {
    return { problem: 'the payload is not JSON; send e.g. {"ambient_temperature": -3}, or {} to clear' };
  }
  const parsed = virtualWeatherCommand.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.');
    return { problem: path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message };
  }
  const override: WeatherOverride = {};
  for (const key of VIRTUAL_WEATHER_KEYS) {
    const value = parsed.data[key];
    if (value !== undefined) override[QUANTITIES[key]] = value;
  }
  return { command: parsed.data, override };
}

/** "ambient_temperature -3, ground_temperature -1", or "cleared" for an empty command. */
export function describeCommand(command: VirtualWeatherCommand): string {
  const parts = Object.entries(command).map(([key, value]) => `${key} ${value}`);
  return parts.length > 0 ? parts.join(', ') : 'cleared (the weather model again)';
}
