import { WEATHER_FIELD_TABLE } from '../../hardware/core/contract.ts';

/**
 * The page's charts, named once for the server (which renders a container per chart, with its title
 * and the lines' colours and labels) and for the browser script (which draws them with uPlot, reading
 * the lines from the container). `data-chart="<name>"` on the container is a stable hook for the
 * end-to-end test.
 */

export const STATION_CHARTS = ['temperature', 'humidity', 'pressure', 'wind', 'wind-direction', 'rain'] as const;
export type StationChart = (typeof STATION_CHARTS)[number];
export type ChartName = StationChart | 'compare';

/** One line of a chart: its colour (a CSS custom property in weather-page.css, so dark mode follows) and label. */
export interface ChartLine {
  colour: string;
  label: string;
  /** Drawn dashed. */
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  unit: string;
  lines: ChartLine[];
}

const T = WEATHER_FIELD_TABLE;

export const CHART_SPECS: Record<StationChart, ChartSpec> = {
  temperature: {
    title: 'Temperature',
    unit: T.ambient_temperature.symbol,
    // Low and high bound a shaded band; the means are drawn over it.
    lines: [
      { colour: '--c-air-band', label: 'air low' },
      { colour: '--c-air-band', label: 'air high' },
      { colour: '--c-air', label: 'air mean' },
      { colour: '--c-ground', label: 'ground mean', dashed: true },
    ],
  },
  humidity: { title: T.humidity.label, unit: T.humidity.symbol, lines: [{ colour: '--c-humidity', label: 'humidity' }] },
  pressure: { title: T.air_pressure.label, unit: T.air_pressure.symbol, lines: [{ colour: '--c-pressure', label: 'pressure' }] },
  wind: {
    title: 'Wind and gusts',
    unit: T.wind_speed.symbol,
    lines: [
      { colour: '--c-wind', label: 'mean wind' },
      { colour: '--c-gust', label: 'strongest gust' },
    ],
  },
  'wind-direction': {
    title: 'Wind direction',
    unit: '',
    // Arrows point the way the wind blows, at the height of the bearing it comes from.
    lines: [{ colour: '--c-direction', label: 'from' }],
  },
  rain: { title: T.rainfall.label, unit: T.rainfall.symbol, lines: [{ colour: '--c-rain', label: 'rain' }] },
};

/** Colours of the stations in the compare view, in order (custom properties --c-s0 … --c-s7); labels are the station ids. */
export const COMPARE_LINES: ChartLine[] = Array.from({ length: 8 }, (_, i) => ({ colour: `--c-s${i}`, label: '' }));

/**
 * The chart's lines and unit as data attributes on its container: the browser script reads them there
 * rather than importing this module, which would pull the contract and zod (450 kB) into the script.
 */
export function chartAttributes(name: ChartName): { unit: string; lines: ChartLine[] } {
  return name === 'compare' ? { unit: '', lines: COMPARE_LINES } : { unit: CHART_SPECS[name].unit, lines: CHART_SPECS[name].lines };
}
