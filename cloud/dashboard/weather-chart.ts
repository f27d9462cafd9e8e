import { escapeHtml, formatNumber } from './weather-format.ts';
import type { ReadingBucket } from './weather-source.ts';
import { SLICE_MS, SLICES } from './weather-summary.ts';

/**
 * The page's charts as inline SVG, drawn on the server so the page needs no script, no library and no
 * network: temperature (air and ground) with hourly rain bars, and wind (mean and gusts). Lines break
 * where the station sent nothing instead of drawing across the gap.
 */

const WIDTH = 560;
const HEIGHT = 210;
const PAD = { left: 44, right: 36, top: 12, bottom: 28 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;
const TICK_EVERY_MS = 6 * 3600_000;
const SLICES_PER_HOUR = 3600_000 / SLICE_MS;
export const CHART_COLOURS = { air: '#c0392b', ground: '#8d6e63', rain: '#2e86c1', wind: '#1e8449', gust: '#d35400', frost: '#2471a3', limit: '#7f8c8d' } as const;

export interface ChartInput {
  from: number;
  slices: ReadingBucket[];
  clock: (ms: number) => string;
}

const x = (sliceMiddle: number) => PAD.left + (sliceMiddle / SLICES) * PLOT_W;
const r = (n: number) => Math.round(n * 10) / 10;

/** A y scale over [min, max] with about four round steps. */
function scale(min: number, max: number): { y: (v: number) => number; ticks: number[] } {
  const span = Math.max(max - min, 1);
  const raw = span / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const lo = Math.floor(min / step) * step;
  const hi = Math.max(Math.ceil(max / step) * step, lo + step);
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(Number(t.toFixed(6)));
  return { y: (v) => PAD.top + PLOT_H - ((v - lo) / (hi - lo)) * PLOT_H, ticks };
}

/** Polyline path through the slices that have a value, lifting the pen over gaps. */
function path(slices: ReadingBucket[], pick: (b: ReadingBucket) => number | null, y: (v: number) => number): string {
  let d = '';
  let previous = -2;
  for (const slice of slices) {
    const value = pick(slice);
    if (value === null) continue;
    d += `${slice.index === previous + 1 ? 'L' : 'M'}${r(x(slice.index + 0.5))},${r(y(value))}`;
    previous = slice.index;
  }
  return d;
}

function timeAxis(input: ChartInput): string {
  const parts: string[] = [];
  const firstHour = Math.ceil(input.from / 3600_000) * 3600_000;
  for (let t = firstHour; t < input.from + SLICES * SLICE_MS; t += 3600_000) {
    if (t % TICK_EVERY_MS !== 0) continue;
    const px = r(x((t - input.from) / SLICE_MS));
    parts.push(`<line x1="${px}" x2="${px}" y1="${PAD.top}" y2="${PAD.top + PLOT_H}" class="grid"/>`);
    parts.push(`<text x="${px}" y="${HEIGHT - 7}" text-anchor="middle">${escapeHtml(input.clock(t))}</text>`);
  }
  parts.push(`<text x="${PAD.left + PLOT_W}" y="${HEIGHT - 7}" text-anchor="end">now</text>`);
  return parts.join('');
}

function yAxis(ticks: number[], y: (v: number) => number, side: 'left' | 'right', unit: string, grid: boolean): string {
  const tx = side === 'left' ? PAD.left - 4 : PAD.left + PLOT_W + 4;
  const anchor = side === 'left' ? 'end' : 'start';
  return ticks
    .map((t) => {
      const py = r(y(t));
      const line = grid ? `<line x1="${PAD.left}" x2="${PAD.left + PLOT_W}" y1="${py}" y2="${py}" class="grid"/>` : '';
      return `${line}<text x="${tx}" y="${py + 5}" text-anchor="${anchor}">${escapeHtml(formatNumber(t, Number.isInteger(t) ? 0 : 1))}${unit}</text>`;
    })
    .join('');
}

function frame(title: string, body: string): string {
  return (
    `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" class="chart" preserveAspectRatio="xMidYMid meet">` +
    `<title>${escapeHtml(title)}</title>` +
    `<rect x="${PAD.left}" y="${PAD.top}" width="${PLOT_W}" height="${PLOT_H}" class="plot"/>${body}</svg>`
  );
}

function valuesOf(slices: ReadingBucket[], picks: Array<(b: ReadingBucket) => number | null>): number[] {
  return slices.flatMap((s) => picks.map((p) => p(s))).filter((v): v is number => v !== null);
}

/** Air and ground temperature (left axis, °C) with hourly rain bars (right axis, mm). */
export function temperatureRainChart(input: ChartInput, frostAtOrBelowC: number): string {
  const temps = valuesOf(input.slices, [(b) => b.airMean, (b) => b.groundMean, (b) => b.airMin, (b) => b.groundMin]);
  const t = scale(Math.min(...temps, frostAtOrBelowC + 2), Math.max(...temps, frostAtOrBelowC + 2));
  const hourly = new Map<number, number>();
  for (const s of input.slices) if (s.rain !== null) hourly.set(Math.floor(s.index / SLICES_PER_HOUR), (hourly.get(Math.floor(s.index / SLICES_PER_HOUR)) ?? 0) + s.rain);
  const rain = scale(0, Math.max(1, ...hourly.values()));
  const bars = [...hourly.entries()]
    .filter(([, mm]) => mm > 0)
    .map(([hour, mm]) => {
      const left = x(hour * SLICES_PER_HOUR) + 1;
      const top = rain.y(mm);
      return `<rect x="${r(left)}" y="${r(top)}" width="${r(PLOT_W / 24 - 2)}" height="${r(PAD.top + PLOT_H - top)}" fill="${CHART_COLOURS.rain}" opacity="0.55"><title>${escapeHtml(formatNumber(mm))} mm</title></rect>`;
    })
    .join('');
  const limitY = r(t.y(frostAtOrBelowC));
  const frostLine = `<line x1="${PAD.left}" x2="${PAD.left + PLOT_W}" y1="${limitY}" y2="${limitY}" stroke="${CHART_COLOURS.frost}" stroke-dasharray="6 4"/>`;
  const air = path(input.slices, (b) => b.airMean, t.y);
  const ground = path(input.slices, (b) => b.groundMean, t.y);
  const body =
    yAxis(t.ticks, t.y, 'left', '°', true) +
    yAxis(rain.ticks, rain.y, 'right', '', false) +
    timeAxis(input) +
    bars +
    frostLine +
    (ground ? `<path d="${ground}" fill="none" stroke="${CHART_COLOURS.ground}" stroke-width="2" stroke-dasharray="5 3"/>` : '') +
    (air ? `<path d="${air}" fill="none" stroke="${CHART_COLOURS.air}" stroke-width="2.5"/>` : '');
  return frame('Temperature (°C) and hourly rain (mm), last 24 hours', body);
}

/** Mean wind speed and strongest gust per slice (km/h), with the high-wind alert level. */
export function windChart(input: ChartInput, highGustKmh: number): string {
  const speeds = valuesOf(input.slices, [(b) => b.windMean, (b) => b.gustMax]);
  const top = Math.max(20, ...speeds);
  const w = scale(0, top);
  const showLimit = highGustKmh <= w.ticks[w.ticks.length - 1]!;
  const limitY = r(w.y(highGustKmh));
  const mean = path(input.slices, (b) => b.windMean, w.y);
  const gust = path(input.slices, (b) => b.gustMax, w.y);
  const body =
    yAxis(w.ticks, w.y, 'left', '', true) +
    timeAxis(input) +
    (showLimit ? `<line x1="${PAD.left}" x2="${PAD.left + PLOT_W}" y1="${limitY}" y2="${limitY}" stroke="${CHART_COLOURS.limit}" stroke-dasharray="6 4"/>` : '') +
    (gust ? `<path d="${gust}" fill="none" stroke="${CHART_COLOURS.gust}" stroke-width="1.5"/>` : '') +
    (mean ? `<path d="${mean}" fill="none" stroke="${CHART_COLOURS.wind}" stroke-width="2.5"/>` : '');
  return frame('Wind speed and gusts (km/h), last 24 hours', body);
}
