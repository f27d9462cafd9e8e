import { formatNumber } from './weather-format.ts';
import type { WeatherPageSettings } from './weather-page-settings.ts';
import type { DayExtremes } from './weather-summary.ts';
import type { ReadingField } from './weather-source.ts';

/**
 * Frost, heavy-rain and high-wind alerts for one station, each in plain words a farmer can act on.
 * "now" alerts come from the latest reading (or the last hour, for rain); "last24h" alerts from the
 * day's extremes when nothing is happening now. A missing sensor (null) never raises or clears an
 * alert: it is simply not evidence. Forecasts are out of scope; this is what the station measured.
 */

export type AlertKind = 'frost' | 'heavy-rain' | 'high-wind';

export interface WeatherAlert {
  kind: AlertKind;
  /** "now": the latest reading / last hour; "last24h": earlier in the last 24 hours. */
  when: 'now' | 'last24h';
  /** The measured value that raised it (°C, mm or km/h) and the threshold it crossed. */
  value: number;
  threshold: number;
  /** One short line, e.g. "Frost now". */
  headline: string;
  /** What was measured and what it means, in plain words. */
  detail: string;
}

export interface AlertInput {
  latest: Record<ReadingField, number | null>;
  day: DayExtremes;
  rainLastHour: number | null;
  /** The latest reading is old: "now" becomes "at the last reading". */
  stale: boolean;
}

const atOrBelow = (value: number | null, limit: number): value is number => value !== null && value <= limit;
const atOrAbove = (value: number | null, limit: number): value is number => value !== null && value >= limit;
const lowest = (...values: Array<number | null>): number => Math.min(...values.filter((v): v is number => v !== null));
const celsius = (v: number) => `${formatNumber(v)} °C`;

function frost(input: AlertInput, s: WeatherPageSettings, time: (ms: number) => string): WeatherAlert | undefined {
  const limit = s.frostAtOrBelowC;
  const advice = 'Protect tender plants and young stock, and check water troughs and pipes.';
  const { ambient_temperature: air, ground_temperature: ground } = input.latest;
  if (atOrBelow(air, limit) || atOrBelow(ground, limit)) {
    const parts = [air !== null ? `air ${celsius(air)}` : null, ground !== null ? `ground ${celsius(ground)}` : null].filter(Boolean);
    const when = input.stale ? 'at the last reading' : 'now';
    return {
      kind: 'frost', when: 'now', value: lowest(air, ground), threshold: limit,
      headline: input.stale ? 'Frost at the last reading' : 'Frost now',
      detail: `Temperature ${when}: ${parts.join(', ')} (frost alert at ${celsius(limit)} or below). ${advice}`,
    };
  }
  const { airMin, groundMin, airMinAt, groundMinAt } = input.day;
  if (atOrBelow(airMin, limit) || atOrBelow(groundMin, limit)) {
    const parts = [
      atOrBelow(airMin, limit) ? `air down to ${celsius(airMin)} around ${time(airMinAt!)}` : null,
      atOrBelow(groundMin, limit) ? `ground down to ${celsius(groundMin)} around ${time(groundMinAt!)}` : null,
    ].filter(Boolean);
    return {
      kind: 'frost', when: 'last24h', value: lowest(airMin, groundMin), threshold: limit,
      headline: 'Frost in the last 24 hours',
      detail: `It froze in the last 24 hours: ${parts.join('; ')}. Check for frost damage. ${advice}`,
    };
  }
  return undefined;
}

function heavyRain(input: AlertInput, s: WeatherPageSettings, time: (ms: number) => string): WeatherAlert | undefined {
  const advice = 'Watch for waterlogged ground, run-off and flooded gateways.';
  if (atOrAbove(input.rainLastHour, s.heavyRainMmPerHour) && !input.stale) {
    return {
      kind: 'heavy-rain', when: 'now', value: input.rainLastHour, threshold: s.heavyRainMmPerHour,
      headline: 'Heavy rain now',
      detail: `${formatNumber(input.rainLastHour)} mm of rain fell in the last hour (alert at ${formatNumber(s.heavyRainMmPerHour)} mm in an hour). ${advice}`,
    };
  }
  const wettest = input.day.wettestHour;
  if (wettest && atOrAbove(wettest.rain, s.heavyRainMmPerHour)) {
    return {
      kind: 'heavy-rain', when: 'last24h', value: wettest.rain, threshold: s.heavyRainMmPerHour,
      headline: 'Heavy rain in the last 24 hours',
      detail: `${formatNumber(wettest.rain)} mm fell in one hour from ${time(wettest.start)} (alert at ${formatNumber(s.heavyRainMmPerHour)} mm in an hour); ${formatNumber(input.day.rain ?? wettest.rain)} mm in 24 hours. ${advice}`,
    };
  }
  if (atOrAbove(input.day.rain, s.heavyRainMmPerDay)) {
    return {
      kind: 'heavy-rain', when: 'last24h', value: input.day.rain, threshold: s.heavyRainMmPerDay,
      headline: 'Heavy rain in the last 24 hours',
      detail: `${formatNumber(input.day.rain)} mm of rain fell in the last 24 hours (alert at ${formatNumber(s.heavyRainMmPerDay)} mm in a day). ${advice}`,
    };
  }
  return undefined;
}

function highWind(input: AlertInput, s: WeatherPageSettings, time: (ms: number) => string): WeatherAlert | undefined {
  const limit = s.highGustKmh;
  const advice = 'Secure loose sheeting and gates, and take care with high-sided vehicles and spraying.';
  const gust = input.latest.wind_gust_speed;
  if (atOrAbove(gust, limit)) {
    return {
      kind: 'high-wind', when: 'now', value: gust, threshold: limit,
      headline: input.stale ? 'High wind at the last reading' : 'High wind now',
      detail: `Gusts of ${formatNumber(gust, 0)} km/h ${input.stale ? 'at the last reading' : 'now'} (alert at ${formatNumber(limit, 0)} km/h). ${advice}`,
    };
  }
  const { gustMax, gustMaxAt } = input.day;
  if (atOrAbove(gustMax, limit)) {
    return {
      kind: 'high-wind', when: 'last24h', value: gustMax, threshold: limit,
      headline: 'High wind in the last 24 hours',
      detail: `A gust of ${formatNumber(gustMax, 0)} km/h around ${time(gustMaxAt!)} (alert at ${formatNumber(limit, 0)} km/h). Check roofs, fences and trees. ${advice}`,
    };
  }
  return undefined;
}

export function alertsFor(input: AlertInput, settings: WeatherPageSettings, time: (ms: number) => string): WeatherAlert[] {
  return [frost(input, settings, time), heavyRain(input, settings, time), highWind(input, settings, time)].filter((a): a is WeatherAlert => a !== undefined);
}
