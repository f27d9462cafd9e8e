import { WEATHER_FIELD_TABLE } from '../../hardware/core/contract.ts';

/**
 * The page's charts, named once for the server (which renders a container per chart, with its title
 * and a text legend that reads without JavaScript) and for the browser script (which draws them with
 * uPlot). `data-chart="<name>"` on the container is a stable hook for the end-to-end test.
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
    lines: [
      { colour: '--c-air', label: 'air, mean' },
      { colour: '--c-air-band', label: 'air, low to high' },
      { colour: '--c-ground', label: 'ground, mean', dashed: true },
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
    lines: [{ colour: '--c-direction', label: 'arrows point the way the wind blows' }],
  },
  rain: { title: T.rainfall.label, unit: T.rainfall.symbol, lines: [{ colour: '--c-rain', label: 'rain per bucket' }] },
};

/** Colours of the stations in the compare view, in order (custom properties --c-s0 … --c-s7). */
export const COMPARE_COLOURS = 8;
export const compareColour = (index: number): string => `--c-s${index % COMPARE_COLOURS}`;
