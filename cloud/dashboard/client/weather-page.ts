/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import './weather-page.css';
import uPlot from 'uplot';
import { comparedSeries, stationSeries } from '../series-contract.ts';
import { STATION_CHARTS, type ChartName } from '../weather-chart.ts';
import { compareChart, readTheme, stationChart, type ChartData, type Frame, type Theme } from './chart-options.ts';
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
  return { width, height: Math.round(Math.min(320, Math.max(200, width * 0.5))), timeZone: document.body.dataset.timeZone || 'UTC' };
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

async function load(url: string): Promise<unknown> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  return response.json();
}

function boxes(root: HTMLElement, names: readonly ChartName[]): Array<{ name: ChartName; box: HTMLElement; plot: HTMLElement }> {
  return names.flatMap((name) => {
    const box = root.querySelector<HTMLElement>(`[data-chart="${name}"]`);
    const plot = box?.querySelector<HTMLElement>('.plot');
    return box && plot ? [{ name, box, plot }] : [];
  });
}

async function start(): Promise<void> {
  enhanceCustomDownload(document);
  const root = document.querySelector<HTMLElement>('[data-series], [data-compare]');
  if (!root) return;
  const theme = readTheme();
  const stationUrl = root.dataset.series;
  const found = boxes(root, stationUrl ? STATION_CHARTS : ['compare']);
  try {
    if (stationUrl) {
      const series = stationSeries.parse(await load(stationUrl));
      for (const { name, box, plot } of found) if (name !== 'compare') drawn.push({ box, plot, build: (f, t) => stationChart(name, series, f, t) });
    } else {
      const series = comparedSeries.parse(await load(root.dataset.compare!));
      for (const { box, plot } of found) drawn.push({ box, plot, build: (f, t) => compareChart(series, f, t) });
    }
  } catch (error) {
    problem(found.map((f) => f.box), `The chart data could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : 'unknown problem'}). Reload the page to try again.`);
    return;
  }
  for (const item of drawn) draw(item, theme);

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
