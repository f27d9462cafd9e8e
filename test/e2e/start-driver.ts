/**
 * The end-to-end run of `npm start` as a new user meets it, driven from outside like a person would:
 * `hedgerow start` on its own defaults (three virtual stations, embedded broker, SQLite, the page on
 * 127.0.0.1:8780), Debian's Chromium through playwright-core, an MQTT subscriber, and two local HTTP
 * receivers standing in for ntfy and a webhook. It runs inside a private network namespace
 * (`unshare -n`, started by npm-start.e2e.test.ts), so the fixed default ports never meet another test.
 *
 * Each step prints one line; the first failed check throws, and the process exits 1 with the reason.
 * The config file given to `hedgerow start` only points the data at a temporary folder and the alert
 * outputs at the receivers: every other setting is npm start's own default.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strict as assert } from 'node:assert';
import mqtt from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = join(REPO, 'test/artifacts');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const STATIONS = ['north-field', 'riverside', 'hilltop'];
const BROKER = 'mqtt://127.0.0.1:1883';

const step = (text: string) => process.stdout.write(`e2e: ${text}\n`);

interface Received {
  at: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP receiver: answers 200 and keeps every request, as ntfy and a webhook endpoint would. */
async function receiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ at: Date.now(), headers: request.headers, body });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"e2e"}');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  assert(address && typeof address === 'object');
  return { url: `http://127.0.0.1:${address.port}`, received, close: () => new Promise((ok) => server.close(() => ok())) };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, everyMs));
  }
}

function startHedgerow(configFile: string): { child: ChildProcess; output: () => string; startLine: Promise<string> } {
  const child = spawn(process.execPath, [join(REPO, 'bin/hedgerow.js'), '--config', configFile, 'start'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const startLine = new Promise<string>((ok, fail) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^hedgerow: running\. .*$/m.exec(out);
      if (line) ok(line[0]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code, signal) => fail(new Error(`hedgerow start exited (${code ?? signal}) before its start line:\n${out}`)));
  });
  return { child, output: () => out, startLine };
}

async function chartPoints(page: Page): Promise<Record<string, number>> {
  return page.$$eval('[data-chart]', (charts) =>
    Object.fromEntries(charts.map((c) => [c.getAttribute('data-chart') ?? '?', Number(c.getAttribute('data-points') ?? '0')])),
  );
}

/** Waits until every chart on the page has drawn at least one point, and returns the counts. */
async function chartsDrawn(page: Page, what: string): Promise<Record<string, number>> {
  return waitFor(`${what}: every chart to draw points`, async () => {
    const points = await chartPoints(page);
    const names = Object.keys(points);
    return names.length > 0 && names.every((n) => points[n]! > 0) ? points : undefined;
  }, 60_000, 500);
}

function parseCsv(text: string): string[][] {
  return text.trim().split(/\r?\n/).map((line) => line.split(','));
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'hedgerow-e2e-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const ntfy = await receiver();
  const webhook = await receiver();
  const config = join(work, 'hedgerow.json');
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(work, 'data'),
      cloud: { dataDir: join(work, 'data/cloud') },
      alerts: {
        evaluateEverySeconds: 5,
        ntfy: { url: `${ntfy.url}/hedgerow-e2e` },
        webhook: { url: `${webhook.url}/alerts` },
      },
    }),
  );
  const hedgerow = startHedgerow(config);
  hedgerowOutput = hedgerow.output;
  let browser: Browser | undefined;
  const client = mqtt.connect(BROKER, { clientId: 'e2e-watcher', reconnectPeriod: 500 });
  try {
    const line = await Promise.race([
      hedgerow.startLine,
      new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`no start line within 240 s:\n${hedgerow.output()}`)), 240_000)),
    ]);
    step(`started: ${line}`);
    const pageUrl = /Weather page (\S+)/.exec(line)?.[1];
    assert(pageUrl, `the start line names no page URL: ${line}`);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await desktop.newPage();
    const offsite: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('http://127.0.0.1') && !r.url().startsWith('data:')) offsite.push(r.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

    // Three stations listed, from the first second.
    assert.equal((await page.goto(pageUrl))?.status(), 200);
    const listed = await page.$$eval('[data-station]', (els) => els.map((e) => e.getAttribute('data-station')));
    assert.deepEqual([...listed].sort(), [...STATIONS].sort(), `the page lists ${listed.join(', ')}`);
    step(`stations listed: ${listed.join(', ')}`);
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-list-1280.png'), fullPage: true });

    // Each station's page draws points in every chart; the ranges switch.
    for (const id of STATIONS) {
      await page.goto(pageUrl);
      await page.locator(`[data-station="${id}"] a`).first().click();
      await page.waitForLoadState('load');
      step(`${id}: charts drawn ${JSON.stringify(await chartsDrawn(page, id))}`);
    }
    for (const range of ['7d', '30d', '1y', '24h']) {
      await page.locator(`a[data-range="${range}"]`).click();
      await waitFor(`range ${range} to become current`, async () => (await page.locator(`a[data-range="${range}"]`).getAttribute('aria-current')) === 'true' || undefined, 30_000, 250);
      step(`range ${range}: ${JSON.stringify(await chartsDrawn(page, `range ${range}`))}`);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-station-1280.png'), fullPage: true });
    // The README's picture of the page (docs/weather-page.png is copied from this one by hand).
    await page.screenshot({ path: join(ARTIFACTS, 'readme-weather-page.png'), clip: { x: 0, y: 0, width: 1280, height: 1000 } });

    // Downloads: CSV and JSON of the shown range, parsed.
    for (const format of ['csv', 'json'] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator(`a[data-download="${format}"]`).first().click()]);
      const file = join(work, `download.${format}`);
      await download.saveAs(file);
      const text = readFileSync(file, 'utf8');
      if (format === 'csv') {
        const rows = parseCsv(text);
        assert(rows.length > 10, `the CSV has ${rows.length} lines`);
        assert.match(rows[0]!.join(','), /time/i, 'the CSV header names its time column');
        assert.match(rows[1]![0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z$/, 'times are ISO 8601 UTC');
        step(`CSV: ${rows.length - 1} rows, header ${rows[0]!.join(',')}`);
      } else {
        const parsed: unknown = JSON.parse(text);
        const records = (parsed as { records?: unknown[] }).records;
        assert(Array.isArray(records) && records.length > 10, 'the JSON download holds records');
        step(`JSON: ${records.length} records`);
      }
    }

    // A phone and dark mode.
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2 });
    const phonePage = await phone.newPage();
    await phonePage.goto(`${pageUrl.replace(/\/$/, '')}${new URL(page.url()).pathname}`);
    await chartsDrawn(phonePage, 'phone');
    const overflow = (await phonePage.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    assert(overflow <= 0, `at 360 px the page scrolls sideways by ${overflow} px`);
    await phonePage.screenshot({ path: join(ARTIFACTS, 'e2e-station-360.png'), fullPage: true });
    const dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    const darkPage = await dark.newPage();
    await darkPage.goto(pageUrl);
    const background = (await darkPage.evaluate('getComputedStyle(document.body).backgroundColor')) as string;
    const rgb = (background.match(/\d+/g) ?? []).slice(0, 3).map(Number);
    assert(rgb.length === 3 && rgb.every((c) => c < 80), `dark mode's background is ${background}`);
    await darkPage.screenshot({ path: join(ARTIFACTS, 'e2e-list-dark.png'), fullPage: true });
    step(`phone: no sideways scroll; dark background ${background}`);

    // Frost. A December night may already be frosty: first warm the station well clear of frost and wait
    // until it has no active alert, then lower its temperature below zero and watch one alert arrive.
    const target = 'riverside';
    const alertMessages: Array<{ topic: string; payload: string }> = [];
    client.on('message', (topic, payload) => alertMessages.push({ topic, payload: payload.toString() }));
    await new Promise<void>((ok, fail) => client.subscribe(`dt/alerts/${target}/frost`, { qos: 1 }, (e) => (e ? fail(e) : ok())));
    const setWeather = (values: Record<string, number>) =>
      new Promise<void>((ok, fail) => client.publish(`cmd/weather/${target}/virtual-weather`, JSON.stringify(values), { qos: 1, retain: true }, (e) => (e ? fail(e) : ok())));
    const active = (m: { payload: string }) => m.payload.length > 0 && (JSON.parse(m.payload) as { endedAt?: unknown }).endedAt == null;
    await setWeather({ ambient_temperature: 12, ground_temperature: 9 });
    // The backfilled week may end in a frost that began before notifyWithinMinutes: it is active but was
    // never announced, so MQTT is silent about it. The page shows every active alert: wait for it there too.
    const frostNowOnPage = async () => {
      await page.goto(pageUrl);
      return page.locator(`[data-station="${target}"] .alert.frost.now`).count();
    };
    await waitFor(`${target} to have no active frost alert after warming to 12 °C`, async () => {
      await new Promise((ok) => setTimeout(ok, 2000));
      const last = alertMessages.at(-1);
      return ((last === undefined || !active(last)) && (await frostNowOnPage()) === 0) || undefined;
    }, 180_000, 1000);
    // Start messages only: an earlier frost's end may still be on its way. ntfy tags a start 'warning'; the
    // webhook's X-Hedgerow-Event ends in /start.
    const frostFor = (received: Received[]) =>
      received.filter((r) => String(r.headers.title ?? r.headers['x-hedgerow-event'] ?? '').includes(target) && (/^warning,/.test(String(r.headers.tags ?? '')) || /\/start$/.test(String(r.headers['x-hedgerow-event'] ?? ''))));
    const ntfyBefore = frostFor(ntfy.received).length;
    const webhookBefore = frostFor(webhook.received).length;
    const mqttBefore = alertMessages.length;
    await setWeather({ ambient_temperature: -4, ground_temperature: -2 });
    step(`warmed ${target} clear of frost, then lowered its temperature to -4 °C`);

    await waitFor('the frost alert on MQTT', () => alertMessages.slice(mqttBefore).find(active), 180_000);
    await waitFor('the frost alert at the ntfy receiver', () => frostFor(ntfy.received).length > ntfyBefore || undefined, 120_000);
    await waitFor('the frost alert at the webhook', () => frostFor(webhook.received).length > webhookBefore || undefined, 120_000);
    await waitFor('the frost alert on the page', async () => (await frostNowOnPage()) > 0 || undefined, 120_000, 2000);
    step(`frost alert for ${target}: on MQTT, at ntfy, at the webhook and on the page`);
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-frost-1280.png'), fullPage: true });

    // Keep it frozen for several more records (one every 30 s) and evaluations: still one alert, no flapping.
    await new Promise((ok) => setTimeout(ok, 75_000));
    const ntfyFrost = frostFor(ntfy.received).slice(ntfyBefore);
    const webhookFrost = frostFor(webhook.received).slice(webhookBefore);
    assert.equal(ntfyFrost.length, 1, `ntfy got ${ntfyFrost.length} frost messages for ${target}:\n${ntfyFrost.map((r) => r.body).join('\n')}`);
    assert.equal(webhookFrost.length, 1, `the webhook got ${webhookFrost.length} frost events for ${target}`);
    const distinct = new Set(alertMessages.slice(mqttBefore).filter(active).map((m) => (JSON.parse(m.payload) as { startedAt?: unknown }).startedAt));
    assert.equal(distinct.size, 1, `MQTT carried ${distinct.size} different frost alerts for ${target}`);
    await setWeather({});
    step('after 75 s more frost: one ntfy message, one webhook event, one alert on MQTT');

    assert.deepEqual(offsite, [], 'the page loaded nothing from outside this machine');
    assert.deepEqual(errors, [], `the page logged errors: ${errors.join(' | ')}`);
    step('passed');
  } finally {
    client.end(true);
    await browser?.close();
    hedgerow.child.kill('SIGTERM');
    await new Promise((ok) => {
      const timer = setTimeout(() => {
        hedgerow.child.kill('SIGKILL');
        ok(undefined);
      }, 20_000);
      hedgerow.child.on('exit', () => {
        clearTimeout(timer);
        ok(undefined);
      });
      if (hedgerow.child.exitCode !== null) ok(undefined);
    });
    await ntfy.close();
    await webhook.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** What `hedgerow start` printed, kept for a failed run: test/artifacts/e2e-hedgerow.log. */
let hedgerowOutput = (): string => '';

main().then(
  () => process.exit(0),
  (error: unknown) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'e2e-hedgerow.log'), hedgerowOutput());
    process.stderr.write(`e2e: hedgerow start's output is in ${join(ARTIFACTS, 'e2e-hedgerow.log')}\n`);
    process.stderr.write(`e2e: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
