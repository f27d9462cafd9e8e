import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparedSeries, SERIES_PATHS } from '../../../cloud/dashboard/series-contract.ts';
import { STATION_CHARTS } from '../../../cloud/dashboard/weather-chart.ts';
import { DOWNLOAD_CSV_HEADER } from '../../../cloud/dashboard/weather-download.ts';
import { weatherPageSettings } from '../../../cloud/dashboard/weather-page-settings.ts';
import { parseCsv } from '../../../cloud/query/csv.ts';
import { FakeTime, startEngine, type EngineFixture } from '../engine/engine-fixture.ts';
import { drawnPoints, launchChromium, STEP_MS, TEST_MS } from './chromium.ts';
import { weatherApp } from './weather-app.ts';
import { envelopes, weatherDay } from './weather-records.ts';

/**
 * The page's charts and downloads in Chromium against the real data endpoints (the whole API app: the
 * page's routes and weather-data-routes.ts over the engine's SQLite datastore), where the page's own
 * Chromium test uses a stand-in for them.
 */

let fixture: EngineFixture;
let app: FastifyInstance;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const now = Date.now();
  fixture = await startEngine({ resourceFiles: ['cloud/resources/default.json'] }, new FakeTime(now));
  const week = weatherDay({ end: now - 60_000, hours: 8 * 24, stepMs: 30 * 60_000, low: -2, high: 11, downpour: { mm: 9, minutesAgo: 300 } });
  for (const e of envelopes('north_field', week)) await fixture.engine.handleMqttMessage(e.topic, e.payload);
  for (const e of envelopes('lone_post', weatherDay({ end: now - 5 * 60_000, hours: 1, stepMs: 3600_000 }))) await fixture.engine.handleMqttMessage(e.topic, e.payload);
  await fixture.engine.idle();
  app = await weatherApp(fixture, weatherPageSettings.parse({ timeZone: 'UTC', refreshSeconds: 0 }));
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
}, TEST_MS);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await fixture?.close();
});

describe('the page on the real data endpoints', () => {
  it('draws every chart of every range, a single record as a point, the comparison, and downloads parsable CSV and JSON', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(STEP_MS);
    const problems: string[] = [];
    const page = await context.newPage();
    page.on('console', (m) => {
      // Chromium asks every page for /favicon.ico, which the API's catch-all refuses unsigned (403): the
      // page's business, reported, not this test's.
      if (m.location().url.endsWith('/favicon.ico')) return;
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    try {
      for (const range of ['24h', '7d', '30d', '1y']) {
        expect((await page.goto(`${base}/stations/north_field?range=${range}`))?.status()).toBe(200);
        const points = await drawnPoints(page, STATION_CHARTS);
        for (const name of STATION_CHARTS) expect(points[name], `${range} ${name}`).toBeGreaterThan(0);
      }
      await page.goto(`${base}/stations/lone_post`);
      expect((await drawnPoints(page, STATION_CHARTS)).humidity).toBe(1);

      const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes(SERIES_PATHS.compare)), page.goto(`${base}/compare?quantity=ambient_temperature&range=7d`)]);
      expect(comparedSeries.parse(await response.json()).stations.map((s) => s.stationId)).toEqual(['lone_post', 'north_field']);

      await page.goto(`${base}/stations/north_field?range=24h`);
      const csvHref = await page.locator('a[data-download="csv"]').getAttribute('href');
      const csv = await page.request.get(`${base}${csvHref}`);
      expect(csv.status()).toBe(200);
      const [header, ...rows] = parseCsv(await csv.text());
      expect(header).toEqual([...DOWNLOAD_CSV_HEADER]);
      // Half-hourly for the last 24 hours, the newest a minute ago.
      expect(rows).toHaveLength(48);
      const jsonHref = await page.locator('a[data-download="json"]').getAttribute('href');
      const json = (await (await page.request.get(`${base}${jsonHref}`)).json()) as { records: Array<{ time: string }> };
      expect(json.records.map((r) => r.time)).toEqual(rows.map((r) => r[0]));
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, TEST_MS);
});
