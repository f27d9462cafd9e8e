import { existsSync, readFileSync } from 'node:fs';
import { BatchPutMessageCommand } from '@aws-sdk/client-iotanalytics';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../api/cloud-fixture.ts';
import { ALL_OK, weatherDay } from './weather-records.ts';

/**
 * The weather page in a real headless Chromium, served by the real cloud (engine + API on a free port,
 * SQLite in a temp folder), with records put through the AWS SDK's BatchPutMessage.
 */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
const PHONE = { width: 390, height: 844 };

let cloud: TestCloud;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the weather page's browser test needs Debian's chromium (apt-get install -y chromium; test/setup.sh installs it).`);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  cloud = await startTestCloud({ cloud: { resourceFiles: ['cloud/resources/default.json'] }, alerts: {} });
  const now = Date.now();
  const frosty = weatherDay({ end: now - 2 * 60_000, hours: 6, low: 1, high: 6, gust: { kmh: 71, minutesAgo: 40 }, latest: { ambient_temperature: -1.5, ground_temperature: -0.3 } });
  const calm = weatherDay({ end: now - 60_000, hours: 6, low: 6, high: 12, latest: { ground_temperature: null, sensors: { ...ALL_OK, ds18b20: 'missing' } } });
  const records = [...frosty.map((r) => ({ ...r, device_id: 'north_field' })), ...calm.map((r) => ({ ...r, device_id: 'top_barn' }))];
  for (let i = 0; i < records.length; i += 100) {
    const messages = records.slice(i, i + 100).map((r, k) => ({ messageId: `m${i + k}`, payload: Buffer.from(JSON.stringify(r)) }));
    const answer = await cloud.client.send(new BatchPutMessageCommand({ channelName: 'weather_channel', messages }));
    expect(answer.batchPutMessageErrorEntries).toEqual([]);
  }
  await cloud.cloud.alerts!.evaluateNow();
  await cloud.cloud.engine.createDatasetContent({ datasetName: 'weather_daily' });
  await cloud.cloud.engine.idle();
});

afterAll(async () => {
  await browser?.close();
  await cloud?.stop();
});

describe('the weather page in Chromium', () => {
  it('shows the stations and their alerts on a phone, and its CSV link downloads the public dataset', async () => {
    const context = await browser.newContext({ viewport: PHONE, acceptDownloads: true, offline: false });
    const requests: string[] = [];
    try {
      const page = await context.newPage();
      page.on('request', (request) => requests.push(request.url()));
      const response = await page.goto(`${cloud.cloud.endpoint}/`);
      expect(response?.status()).toBe(200);

      const north = page.locator('section.station', { has: page.locator('h2', { hasText: 'north_field' }) });
      await expect(north.locator('.alert.frost strong').textContent()).resolves.toBe('Frost now');
      expect(await north.locator('.alert.frost').isVisible()).toBe(true);
      await expect(north.locator('.alert.high-wind strong').textContent()).resolves.toBe('High wind over');
      expect(await north.locator('.alert.high-wind').isVisible()).toBe(true);
      expect(await north.locator('a[href="/stations/north_field"]').count()).toBeGreaterThan(0);

      const barn = page.locator('section.station', { has: page.locator('h2', { hasText: 'top_barn' }) });
      expect(await barn.isVisible()).toBe(true);
      expect(await barn.locator('.alert').count()).toBe(0);
      expect(await barn.locator('dd', { hasText: 'ds18b20: missing' }).isVisible()).toBe(true);

      // Nothing wider than the phone: no sideways scrolling.
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
      await page.screenshot({ path: '/tmp/hedgerow-weather-page-phone.png', fullPage: true });

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'weather_daily.csv' }).click()]);
      expect(download.suggestedFilename()).toBe('weather_daily.csv');
      const csv = readFileSync((await download.path())!, 'utf8');
      const [header, ...rows] = csv.trim().split(/\r?\n/);
      expect(header!.replaceAll('"', '')).toBe('station,day,ambient_temperature_min_c,ambient_temperature_max_c,ambient_temperature_mean_c,rainfall_total_mm,wind_gust_speed_max_kmh');
      expect(rows.some((row) => row.includes('north_field'))).toBe(true);

      // Everything the page needed came from the cloud itself.
      expect(requests.every((url) => url.startsWith(cloud.cloud.endpoint))).toBe(true);
    } finally {
      await context.close();
    }
  });
});
