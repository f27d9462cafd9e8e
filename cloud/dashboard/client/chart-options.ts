/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import uPlot from 'uplot';
import type { ComparedSeries, StationSeries } from '../series-contract.ts';
import type { ChartLine, StationChart } from '../weather-chart.ts';

/**
 * uPlot options and data for each of the page's charts, from the series JSON. Colours come from the
 * stylesheet's custom properties (light or dark), so the charts follow prefers-color-scheme. Values
 * the station did not send are null and drawn as gaps; a value with no neighbour is drawn as a dot,
 * so a series of one reading still shows.
 */

export type Column = Array<number | null>;
export interface ChartData {
  data: uPlot.AlignedData;
  /** Non-null values over all series but x: the chart's `data-points`. */
  points: number;
}

export interface Theme {
  colour(customProperty: string): string;
  axis: string;
  grid: string;
}

export function readTheme(): Theme {
  const style = getComputedStyle(document.documentElement);
  const colour = (name: string) => style.getPropertyValue(name).trim() || '#888';
  return { colour, axis: colour('--axis'), grid: colour('--grid') };
}

const countPoints = (columns: Column[]) => columns.reduce((n, c) => n + c.filter((v) => v !== null && v !== undefined).length, 0);

/** Up to this many empty buckets in a row are a station reporting less often than the buckets, joined by the line; more are a gap. */
const JOINED_EMPTY_BUCKETS = 2;

/**
 * Rows on [from, to): a null row at both ends, so the x axis always spans the whole range (a station
 * that reported once is a dot in its place, not a chart squeezed to one instant), and a null row in
 * every hole in the time axis longer than a bucket, so a line never bridges a silent station. A short
 * run of empty buckets becomes undefined, which uPlot joins over; null stays a gap.
 */
export function alignRows(time: number[], columns: Column[], bucketSeconds: number, from: number, to: number): ChartData {
  const xs: number[] = [];
  const ys: Column[] = columns.map(() => []);
  const push = (t: number, row: (k: number) => number | null) => {
    xs.push(t);
    ys.forEach((c, k) => c.push(row(k)));
  };
  if (time.length === 0 || time[0]! > from) push(from, () => null);
  time.forEach((t, i) => {
    const previous = xs[xs.length - 1];
    if (previous !== undefined && t - previous > bucketSeconds * 1.5) push(previous + bucketSeconds, () => null);
    push(t, (k) => columns[k]![i] ?? null);
  });
  if (xs[xs.length - 1]! < to - bucketSeconds) push(to, () => null);
  for (const c of ys) joinShortRuns(c);
  return { data: [xs, ...ys] as uPlot.AlignedData, points: countPoints(columns) };
}

function joinShortRuns(column: Column): void {
  let i = 0;
  while (i < column.length) {
    if (column[i] !== null) {
      i++;
      continue;
    }
    let end = i;
    while (end < column.length && column[end] === null) end++;
    const inside = i > 0 && end < column.length;
    if (inside && end - i <= JOINED_EMPTY_BUCKETS) for (let k = i; k < end; k++) (column as unknown[])[k] = undefined;
    i = end;
  }
}

/** The nearest entry that is not undefined (a joined empty bucket), walking from i in steps of dir. */
function neighbour(ys: Column, i: number, dir: 1 | -1): number | null {
  for (let k = i + dir; k >= 0 && k < ys.length; k += dir) if (ys[k] !== undefined) return ys[k]!;
  return null;
}

/** Indices with a value but no value to draw a line to: uPlot draws nothing for them, so they get a dot. */
function isolated(u: uPlot, seriesIdx: number): number[] | null {
  const ys = u.data[seriesIdx] as Column;
  const out: number[] = [];
  for (let i = 0; i < ys.length; i++) if (ys[i] != null && neighbour(ys, i, -1) === null && neighbour(ys, i, 1) === null) out.push(i);
  return out;
}

function line(label: string, stroke: string, extra: Partial<uPlot.Series> = {}): uPlot.Series {
  return { label, stroke, width: 2, spanGaps: false, points: { show: true, size: 7, fill: stroke, filter: isolated }, ...extra };
}

/** Axis label width from the longest label, so values like 1013 never run into the plot. */
function axisSize(_u: uPlot, values: string[] | null): number {
  const longest = Math.max(2, ...(values ?? []).map((v) => String(v).length));
  return Math.ceil(longest * 8.5 + 20);
}

const DAY_S = 86_400;

/** Time labels in the page's zone, 24-hour clock: "18:00", with the day under the first tick of each day; "7 Dec" or "Dec 2026" for longer steps. */
function timeLabels(timeZone: string): uPlot.Axis['values'] {
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const day = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short' });
  const month = new Intl.DateTimeFormat('en-GB', { timeZone, month: 'short', year: 'numeric' });
  return (_u, splits, _axisIdx, _space, increment) => {
    let lastDay = '';
    return splits.map((s) => {
      const at = s * 1000;
      if (increment >= 28 * DAY_S) return month.format(at);
      if (increment >= DAY_S) return day.format(at);
      const d = day.format(at);
      const label = d === lastDay ? clock.format(at) : `${clock.format(at)}\n${d}`;
      lastDay = d;
      return label;
    });
  };
}

function hoverTime(timeZone: string): uPlot.Series['value'] {
  const format = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return (_u, v) => (v == null ? '—' : format.format(v * 1000));
}

function axes(theme: Theme, timeZone: string, y: Partial<uPlot.Axis> = {}): uPlot.Axis[] {
  const common = { stroke: theme.axis, font: '13px system-ui, sans-serif', grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 } };
  // A wide gap between time labels: two-line labels ("18:00" over "7 Dec") never touch on a phone.
  return [{ ...common, space: 72, size: 54, values: timeLabels(timeZone) }, { ...common, space: 32, size: axisSize, ...y }];
}

export interface Frame {
  width: number;
  height: number;
  timeZone: string;
}

function base(frame: Frame, theme: Theme, series: uPlot.Series[], y: Partial<uPlot.Axis> = {}): uPlot.Options {
  return {
    width: frame.width,
    height: frame.height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), frame.timeZone),
    // Room on the right for half of the last time label ("Dec 2026"), which is centred on its tick.
    padding: [10, 32, 0, 0],
    cursor: { drag: { x: true, y: false } },
    legend: { show: true, live: true },
    series: [{ label: 'time', value: hoverTime(frame.timeZone) }, ...series],
    axes: axes(theme, frame.timeZone, y),
  };
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
const decimals = (digits: number) => (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : v.toFixed(digits));

/** How a chart looks, as the server wrote it on the chart's container (weather-chart.ts). */
export interface Look {
  unit: string;
  lines: ChartLine[];
}

/** A station chart's options and data, from a station series. */
export function stationChart(name: StationChart, series: StationSeries, look: Look, frame: Frame, theme: Theme): { options: uPlot.Options; data: ChartData } {
  const col = (key: string): Column => series.columns[key] ?? series.time.map(() => null);
  const from = seconds(series.from);
  const to = seconds(series.to);
  const rows = (columns: Column[]) => alignRows(series.time, columns, series.bucketSeconds, from, to);
  const c = (k: number) => theme.colour(look.lines[k]?.colour ?? '--text');
  const label = (k: number) => look.lines[k]?.label ?? '';
  const dash = (k: number) => (look.lines[k]?.dashed ? { dash: [6, 4] } : {});
  const unit = look.unit;
  const value = (digits: number) => (u: uPlot, v: number | null) => `${decimals(digits)(u, v)}${v === null || v === undefined ? '' : ` ${unit}`}`;
  switch (name) {
    case 'temperature': {
      const options = base(frame, theme, [
        line(label(0), c(0), { width: 1, value: value(1) }),
        line(label(1), c(1), { width: 1, value: value(1) }),
        line(label(2), c(2), { value: value(1), ...dash(2) }),
        line(label(3), c(3), { value: value(1), ...dash(3) }),
      ]);
      options.bands = [{ series: [2, 1], fill: c(1) }];
      return { options, data: rows([col('ambient_temperature_min'), col('ambient_temperature_max'), col('ambient_temperature_mean'), col('ground_temperature_mean')]) };
    }
    case 'humidity':
      return { options: base(frame, theme, [line(label(0), c(0), { value: value(0) })]), data: rows([col('humidity_mean')]) };
    case 'pressure':
      return { options: base(frame, theme, [line(label(0), c(0), { value: value(1) })]), data: rows([col('air_pressure_mean')]) };
    case 'wind':
      return {
        options: base(frame, theme, [line(label(0), c(0), { value: value(0) }), line(label(1), c(1), { width: 1.5, value: value(0) })]),
        data: rows([col('wind_speed_mean'), col('wind_gust_speed_max')]),
      };
    case 'wind-direction':
      return { options: directionOptions(frame, theme, label(0), c(0)), data: rows([col('wind_direction_mean')]) };
    case 'rain': {
      const rain = series.rain;
      const options = base(frame, theme, [
        { label: label(0), stroke: c(0), fill: c(0), width: 0, paths: uPlot.paths.bars!({ size: [0.85, 64], align: 1 }), points: { show: false }, value: (u, v) => `${decimals(1)(u, v)}${v == null ? '' : ' mm'}` },
      ]);
      options.scales = { y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 0) * 1.1] } };
      return { options, data: alignRows(rain.time, [rain.mm], rain.bucketSeconds, from, to) };
    }
    default:
      throw new Error(`this page has no chart called ${String(name)}`);
  }
}

const COMPASS4 = ['N', 'E', 'S', 'W', 'N'];
const COMPASS16 = ['N', 'NNE', 'NE', 'ENE', 'E', 'ESE', 'SE', 'SSE', 'S', 'SSW', 'SW', 'WSW', 'W', 'WNW', 'NW', 'NNW'];

/**
 * Wind direction as arrows along the time axis, each at the height of the bearing the wind came from
 * and pointing the way it blows; thinned to one arrow per 18 px so they stay apart on a phone.
 */
function directionOptions(frame: Frame, theme: Theme, label: string, colour: string): uPlot.Options {
  const arrows: uPlot.Series.Points.Show = (u, seriesIdx, idx0, idx1) => {
    const ctx = u.ctx;
    const xs = u.data[0];
    const ys = u.data[seriesIdx] as Column;
    const ratio = window.devicePixelRatio || 1;
    const half = 7 * ratio;
    let lastX = -Infinity;
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = 1.6 * ratio;
    for (let i = idx0; i <= idx1; i++) {
      const bearing = ys[i];
      if (bearing === null || bearing === undefined) continue;
      const x = u.valToPos(xs[i]!, 'x', true);
      if (x - lastX < 18 * ratio) continue;
      lastX = x;
      const y = u.valToPos(bearing, 'y', true);
      const downwind = ((bearing + 180) * Math.PI) / 180;
      const dx = Math.sin(downwind) * half;
      const dy = -Math.cos(downwind) * half;
      ctx.beginPath();
      ctx.moveTo(x - dx, y - dy);
      ctx.lineTo(x + dx, y + dy);
      ctx.stroke();
      const headAngle = Math.atan2(dy, dx);
      ctx.beginPath();
      ctx.moveTo(x + dx, y + dy);
      ctx.lineTo(x + dx - 5 * ratio * Math.cos(headAngle - 0.5), y + dy - 5 * ratio * Math.sin(headAngle - 0.5));
      ctx.lineTo(x + dx - 5 * ratio * Math.cos(headAngle + 0.5), y + dy - 5 * ratio * Math.sin(headAngle + 0.5));
      ctx.closePath();
      ctx.fill();
    }
    ctx.restore();
    return undefined;
  };
  const options = base(
    frame,
    theme,
    [{ label, stroke: colour, paths: () => null, points: { show: arrows }, value: (_u, v) => (v == null ? '—' : `${COMPASS16[Math.round((((v % 360) + 360) % 360) / 22.5) % 16]} (${Math.round(v)}°)`) }],
    { splits: () => [0, 90, 180, 270, 360], values: (_u, splits) => splits.map((s) => COMPASS4[Math.round(s / 90)] ?? '') },
  );
  options.scales = { y: { range: [0, 360] } };
  return options;
}

/** The compare chart: one line per station, named in the legend. */
export function compareChart(series: ComparedSeries, look: Look, frame: Frame, theme: Theme): { options: uPlot.Options; data: ChartData } {
  const colour = (i: number) => theme.colour(look.lines[i % Math.max(1, look.lines.length)]?.colour ?? '--text');
  const lines = series.stations.map((s, i) => line(s.stationId, colour(i), { value: (u, v) => `${decimals(1)(u, v)}${v == null ? '' : ` ${series.unit}`}` }));
  const data = alignRows(series.time, series.stations.map((s) => s.values), series.bucketSeconds, seconds(series.from), seconds(series.to));
  return { options: base(frame, theme, lines), data };
}
