import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparedSeries, SERIES_PATHS, seriesQuantity, seriesRange } from '../../../cloud/dashboard/series-contract.ts';
import { STATION_CHARTS } from '../../../cloud/dashboard/weather-chart.ts';
import { weatherPageSettings } from '../../../cloud/dashboard/weather-page-settings.ts';
import { registerWeatherPage } from '../../../cloud/dashboard/weather-routes.ts';
import { StoreWeatherSource } from '../../../cloud/dashboard/weather-source.ts';
import type { WeatherRecord } from '../../../hardware/core/contract.ts';
import { silentLog } from '../api/helpers.ts';
import { FakeTime, startEngine, type EngineFixture } from '../engine/engine-fixture.ts';
import { drawnPoints, launchChromium, STEP_MS, TEST_MS } from './chromium.ts';
import { comparedFromRecords, seriesFromRecords } from './series-fixture.ts';
import { envelopes, weatherDay } from './weather-records.ts';

/**
 * The station and compare pages with their uPlot charts in a real headless Chromium. The page routes
 * and the script bundle are the real ones, over a real engine and SQLite datastore; the series JSON
 * comes from a test-only route built to the contract (series-fixture.ts), since the data routes are
 * built separately. Screenshots go to test/artifacts/ (git-ignored).
 */

const ARTIFACTS = 'test/artifacts';

let fixture: EngineFixture;
let app: FastifyInstance;
let browser: Browser;
let base: string;
const records: Record<string, WeatherRecord[]> = {};

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const now = Date.now();
  fixture = await startEngine({ resourceFiles: ['cloud/resources/default.json'] }, new FakeTime(now));
  // A week and a day of half-hourly readings with a silent afternoon (a gap) and a wet spell; one
  // station that reported once; one that reported for a day.
  const week = weatherDay({ end: now - 60_000, hours: 8 * 24, stepMs: 30 * 60_000, low: -2, high: 11, downpour: { mm: 9, minutesAgo: 300 } });
  records.north_field = week.filter((r) => r.ts < now - 30 * 3600_000 || r.ts > now - 26 * 3600_000).map((r, i) => ({ ...r, wind_direction: (i * 37) % 360 }));
  records.lone_post = weatherDay({ end: now - 5 * 60_000, hours: 1, stepMs: 3600_000 });
  records.river_bank = weatherDay({ end: now - 2 * 60_000, hours: 24, stepMs: 20 * 60_000, low: 3, high: 8 });
  for (const [id, list] of Object.entries(records)) for (const e of envelopes(id, list)) await fixture.engine.handleMqttMessage(e.topic, e.payload);
  await fixture.engine.idle();

  const settings = weatherPageSettings.parse({ timeZone: 'UTC', refreshSeconds: 0 });
  app = Fastify();
  registerWeatherPage(app, { source: new StoreWeatherSource({ store: fixture.engine.store }), settings, downloads: async () => [], log: silentLog, now: Date.now });
  app.get<{ Params: { stationId: string }; Querystring: { range?: string } }>(SERIES_PATHS.station(':stationId').replace('%3A', ':'), async (request, reply) => {
    const list = records[request.params.stationId];
    if (!list) return reply.code(404).send({ message: 'no such station' });
    return seriesFromRecords(request.params.stationId, list, seriesRange.parse(request.query.range ?? '24h'), Date.now());
  });
  app.get<{ Querystring: { quantity?: string; range?: string } }>(SERIES_PATHS.compare, async (request) =>
    comparedFromRecords(records, seriesQuantity.parse(request.query.quantity), seriesRange.parse(request.query.range ?? '24h'), Date.now()),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, TEST_MS);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await fixture?.close();
});

interface Watched {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and any request that left the test server. */
  problems: string[];
  seriesRequests: string[];
}

async function open(viewport: { width: number; height: number }, colorScheme: 'light' | 'dark' = 'light'): Promise<Watched> {
  const context = await browser.newContext({ viewport, colorScheme });
  context.setDefaultTimeout(STEP_MS);
  const problems: string[] = [];
  const seriesRequests: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${base}/`)) return route.continue();
    problems.push(`request left the server: ${url}`);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (r.url().includes('/series.json') || r.url().includes('/compare.json')) seriesRequests.push(r.url());
  });
  return { context, page, problems, seriesRequests };
}


/** Canvas pixels of a chart close to a colour (as "#rrggbb"): proof that something was painted in it. */
async function pixelsOf(page: Page, chart: string, hex: string): Promise<number> {
  return page.evaluate(
    ([selector, colour]) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`${selector} canvas`);
      if (!canvas) return -1;
      // Read a copy: reading the chart's own canvas back makes Chromium warn on the console.
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const ctx = copy.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(canvas, 0, 0);
      const { data } = ctx.getImageData(0, 0, copy.width, copy.height);
      const want = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 200 && want.every((c, k) => Math.abs(data[i + k]! - c) < 24)) n++;
      return n;
    },
    [`[data-chart="${chart}"]`, hex] as const,
  );
}

/** Runs `body` on a fresh page, then checks the page logged no error and fetched nothing from outside. */
async function onPage(viewport: { width: number; height: number }, colorScheme: 'light' | 'dark', body: (w: Watched) => Promise<void>): Promise<void> {
  const w = await open(viewport, colorScheme);
  try {
    await body(w);
    expect(w.problems).toEqual([]);
  } finally {
    await w.context.close();
  }
}

const scrollWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

describe('the station page in Chromium', () => {
  it('draws every chart, switches ranges with plain links, and loads nothing from outside', async () => {
    await onPage({ width: 1280, height: 900 }, 'light', async (w) => {
      const { page } = w;
      expect((await page.goto(`${base}/stations/north_field`))?.status()).toBe(200);
      const day = await drawnPoints(page, STATION_CHARTS);
      for (const name of STATION_CHARTS) expect(day[name], name).toBeGreaterThan(0);
      expect(await page.locator('a[data-range][aria-current="true"]').getAttribute('data-range')).toBe('24h');
      expect(await page.locator('[data-chart="rain"] h3').textContent()).toBe('Rain per hour (mm)');
      expect(await page.locator('a[data-download="csv"]').getAttribute('href')).toBe(`${SERIES_PATHS.download('north_field', 'csv')}?range=24h`);
      await page.screenshot({ path: `${ARTIFACTS}/weather-station-1280.png`, fullPage: true });

      await Promise.all([page.waitForURL(/range=7d/), page.locator('a[data-range="7d"]').click()]);
      const week = await drawnPoints(page, STATION_CHARTS);
      expect(await page.locator('a[data-range][aria-current="true"]').getAttribute('data-range')).toBe('7d');
      expect(await page.locator('a[data-range][aria-current="true"]').count()).toBe(1);
      expect(week.temperature).toBeGreaterThan(day.temperature!);
      expect(await page.locator('a[data-download="json"]').getAttribute('href')).toBe(`${SERIES_PATHS.download('north_field', 'json')}?range=7d`);
      expect(w.seriesRequests.some((u) => u.endsWith(`${SERIES_PATHS.station('north_field')}?range=7d`))).toBe(true);
      // The README's picture (docs/weather-page.png is a copy): the week's charts.
      await page.locator('.charts').screenshot({ path: `${ARTIFACTS}/weather-readme.png` });

      await Promise.all([page.waitForURL(/range=30d/), page.locator('a[data-range="30d"]').click()]);
      await drawnPoints(page, STATION_CHARTS);
      expect(await page.locator('[data-chart="rain"] h3').textContent()).toBe('Rain per day (mm)');
      // A desktop gets a grid of charts, not one column down half the page.
      const boxes = await page.locator('[data-chart]').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
      expect(new Set(boxes).size).toBeLessThan(boxes.length);

      // Hovering shows the values under the cursor in the legend.
      const over = page.locator('[data-chart="humidity"] .u-over');
      const box = (await over.boundingBox())!;
      // (85%: inside the 8 days of data in the 30-day range.)
      await page.mouse.move(box.x + box.width * 0.85, box.y + box.height / 2);
      await expect.poll(() => page.locator('[data-chart="humidity"] .u-series:nth-child(2) .u-value').textContent(), { timeout: STEP_MS }).toMatch(/^\d+ %$/);

      // The charts follow the window: each canvas keeps the width of its box as the window narrows.
      const widths = () => page.locator('[data-chart="humidity"]').evaluate((b) => [b.querySelector('canvas')!.getBoundingClientRect().width, b.querySelector('.plot')!.clientWidth]);
      const [wide] = await widths();
      await page.setViewportSize({ width: 480, height: 900 });
      await expect.poll(async () => { const [canvas, plot] = await widths(); return Math.abs(canvas! - plot!) <= 2 && canvas! < wide! ? 'fits' : `${canvas} in ${plot}`; }, { timeout: STEP_MS }).toBe('fits');
      expect(await scrollWidth(page)).toBeLessThanOrEqual(480);
    });
  }, TEST_MS);

  it('draws a station that reported once as a visible point', async () => {
    await onPage({ width: 1280, height: 900 }, 'light', async (w) => {
      await w.page.goto(`${base}/stations/lone_post`);
      const points = await drawnPoints(w.page, STATION_CHARTS);
      expect(points.humidity).toBe(1);
      expect(await pixelsOf(w.page, 'humidity', '#16a085')).toBeGreaterThan(10);
    });
  }, TEST_MS);

  it('fits a 360 px phone with no sideways scrolling, on every page', async () => {
    await onPage({ width: 360, height: 740 }, 'light', async (w) => {
      const { page } = w;
      await page.goto(`${base}/`);
      expect(await page.locator('[data-station]').count()).toBe(3);
      expect(await page.locator('[data-station="river_bank"] a[href="/stations/river_bank"]').count()).toBeGreaterThan(0);
      expect(await scrollWidth(page)).toBeLessThanOrEqual(360);
      await page.screenshot({ path: `${ARTIFACTS}/weather-list-360.png`, fullPage: true });
      await page.goto(`${base}/stations/north_field?range=7d`);
      await drawnPoints(page, STATION_CHARTS);
      expect(await scrollWidth(page)).toBeLessThanOrEqual(360);
      const width = await page.locator('[data-chart="temperature"] canvas').evaluate((c) => c.getBoundingClientRect().width);
      expect(width).toBeGreaterThan(250);
      expect(width).toBeLessThanOrEqual(360);
      await page.screenshot({ path: `${ARTIFACTS}/weather-station-360.png`, fullPage: true });
      await page.goto(`${base}/stations/north_field?range=1y`);
      await drawnPoints(page, STATION_CHARTS);
      expect(await scrollWidth(page)).toBeLessThanOrEqual(360);
      await page.locator('.charts').screenshot({ path: `${ARTIFACTS}/weather-charts-360-1y.png` });
    });
  }, TEST_MS);

  it('follows the dark setting, page and chart colours alike, also when it changes while open', async () => {
    await onPage({ width: 1280, height: 900 }, 'light', async (w) => {
      const { page } = w;
      await page.goto(`${base}/stations/river_bank`);
      await drawnPoints(page, STATION_CHARTS);
      expect(await pixelsOf(page, 'humidity', '#16a085')).toBeGreaterThan(10);
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForFunction(() => getComputedStyle(document.body).backgroundColor === 'rgb(17, 22, 27)');
      await expect.poll(() => pixelsOf(page, 'humidity', '#48c9b0'), { timeout: STEP_MS }).toBeGreaterThan(10);
      expect(await pixelsOf(page, 'humidity', '#16a085')).toBe(0);
      await page.screenshot({ path: `${ARTIFACTS}/weather-station-dark.png`, fullPage: true });
    });
  }, TEST_MS);

  it('overlays one quantity across stations with a legend naming them', async () => {
    await onPage({ width: 1280, height: 900 }, 'dark', async (w) => {
      const { page } = w;
      const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes(SERIES_PATHS.compare)), page.goto(`${base}/compare?quantity=ambient_temperature&range=7d`)]);
      const sent = comparedSeries.parse(await response.json());
      const { compare } = await drawnPoints(page, ['compare']);
      expect(compare).toBe(sent.stations.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0));
      expect(compare).toBeGreaterThan(0);
      // One chart, the page's whole width (not a lone cell of the grid).
      expect(await page.locator('[data-chart="compare"] canvas').evaluate((c) => c.getBoundingClientRect().width)).toBeGreaterThan(1100);
      const legend = await page.locator('[data-chart="compare"] .u-legend').textContent();
      for (const id of Object.keys(records)) expect(legend).toContain(id);
      expect(await page.locator('a[data-range="7d"]').getAttribute('aria-current')).toBe('true');
      await Promise.all([page.waitForURL(/quantity=wind_gust_speed/), page.locator('a[data-quantity="wind_gust_speed"]').click()]);
      expect((await drawnPoints(page, ['compare'])).compare).toBeGreaterThan(0);
      await page.screenshot({ path: `${ARTIFACTS}/weather-compare-dark.png`, fullPage: true });
    });
  }, TEST_MS);
});
