/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import './weather-page.css';
import uPlot from 'uplot';
import type { ComparedSeries, StationSeries } from '../series-contract.ts';
import type { ChartLine, StationChart } from '../weather-chart.ts';
import { compareChart, readTheme, stationChart, type ChartData, type Frame, type Look, type Theme } from './chart-options.ts';
import { enhanceCustomDownload } from './custom-download.ts';

/**
 * The weather page's script: draws the charts whose containers the server rendered, from the series
 * JSON named in `data-series` (a station) or `data-compare` (the compare view). Each chart fills its
 * container's width and follows window resizes and the light/dark setting. After drawing, the
 * container gets `data-points` (values drawn) so a test can see that a chart really drew something.
 */

type Build = (frame: Frame, theme: Theme) => { options: uPlot.Options; data: ChartData };

interface Drawn {
  box: HTMLElement;
  plot: HTMLElement;
  build: Build;
  chart?: uPlot;
}

const drawn: Drawn[] = [];

function frameOf(plot: HTMLElement): Frame {
  const width = Math.max(240, Math.floor(plot.clientWidth));
  // The compare chart has the page to itself, so it may be taller.
  const tallest = plot.closest('[data-chart="compare"]') ? 480 : 320;
  return { width, height: Math.round(Math.min(tallest, Math.max(200, width * 0.5))), timeZone: document.body.dataset.timeZone || 'UTC' };
}

function draw(item: Drawn, theme: Theme): void {
  item.chart?.destroy();
  const { options, data } = item.build(frameOf(item.plot), theme);
  item.chart = new uPlot(options, data.data, item.plot);
  item.box.dataset.points = String(data.points);
}

function problem(boxes: HTMLElement[], message: string): void {
  for (const box of boxes) {
    const plot = box.querySelector<HTMLElement>('.plot');
    if (plot) plot.innerHTML = '';
    const p = document.createElement('p');
    p.className = 'problem';
    p.textContent = message;
    plot?.append(p);
    box.dataset.error = 'true';
  }
}

/**
 * The series JSON from our own origin, whose routes build it with series-contract.ts's schemas. Only
 * its outline is checked here: bundling zod would make the script 520 kB instead of 70 kB, a lot for
 * a phone on a farm's connection, to re-check what the server already parsed.
 */
async function load<T extends { time: number[] }>(url: string, key: 'columns' | 'stations'): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  const json = (await response.json()) as Partial<Record<string, unknown>> | null;
  if (!json || !Array.isArray(json.time) || typeof json.from !== 'string' || typeof json.to !== 'string' || typeof json[key] !== 'object' || json[key] === null) {
    throw new Error('the server sent something that is not a series');
  }
  return json as unknown as T;
}

interface Box {
  name: string;
  box: HTMLElement;
  plot: HTMLElement;
  look: Look;
}

/** The chart containers the server rendered, each with its lines' colours and labels. */
function boxes(root: HTMLElement): Box[] {
  return [...root.querySelectorAll<HTMLElement>('[data-chart]')].flatMap((box) => {
    const plot = box.querySelector<HTMLElement>('.plot');
    if (!plot) return [];
    let lines: ChartLine[] = [];
    try {
      lines = JSON.parse(box.dataset.lines ?? '[]') as ChartLine[];
    } catch {
      // Drawn in the text colour then; the values are still right.
    }
    return [{ name: box.dataset.chart ?? '', box, plot, look: { unit: box.dataset.unit ?? '', lines } }];
  });
}

async function start(): Promise<void> {
  enhanceCustomDownload(document);
  const root = document.querySelector<HTMLElement>('[data-series], [data-compare]');
  if (!root) return;
  const theme = readTheme();
  const stationUrl = root.dataset.series;
  const found = boxes(root);
  try {
    if (stationUrl) {
      const series = await load<StationSeries>(stationUrl, 'columns');
      for (const { name, box, plot, look } of found) if (name !== 'compare') drawn.push({ box, plot, build: (f, t) => stationChart(name as StationChart, series, look, f, t) });
    } else {
      const series = await load<ComparedSeries>(root.dataset.compare!, 'stations');
      for (const { box, plot, look } of found) drawn.push({ box, plot, build: (f, t) => compareChart(series, look, f, t) });
    }
  } catch (error) {
    problem(found.map((f) => f.box), `The chart data could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : 'unknown problem'}). Reload the page to try again.`);
    return;
  }
  for (const item of drawn) {
    try {
      draw(item, theme);
    } catch (error) {
      problem([item.box], `This chart could not be drawn (${error instanceof Error ? error.message : 'unknown problem'}).`);
    }
  }

  // Only redraw when a chart's width really changed: setSize keeps zoom and hover as they are.
  const observer = new ResizeObserver(() => {
    for (const item of drawn) {
      const frame = frameOf(item.plot);
      if (item.chart && (item.chart.width !== frame.width || item.chart.height !== frame.height)) item.chart.setSize({ width: frame.width, height: frame.height });
    }
  });
  for (const item of drawn) observer.observe(item.plot);
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    const next = readTheme();
    for (const item of drawn) draw(item, next);
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => void start());
else void start();
