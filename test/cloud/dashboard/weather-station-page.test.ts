import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SERIES_PATHS, SERIES_RANGE_NAMES } from '../../../cloud/dashboard/series-contract.ts';
import { WEATHER_ASSETS } from '../../../cloud/dashboard/weather-assets.ts';
import { STATION_CHARTS } from '../../../cloud/dashboard/weather-chart.ts';
import { timeFormat } from '../../../cloud/dashboard/weather-format.ts';
import { StoreAlertHistory } from '../../../cloud/alerts/alert-history.ts';
import { alertsHtml } from '../../../cloud/dashboard/weather-html.ts';
import { weatherPageSettings } from '../../../cloud/dashboard/weather-page-settings.ts';
import { registerWeatherPage } from '../../../cloud/dashboard/weather-routes.ts';
import { StoreWeatherSource } from '../../../cloud/dashboard/weather-source.ts';
import { silentLog } from '../api/helpers.ts';
import { startEngine, type EngineFixture } from '../engine/engine-fixture.ts';
import { envelopes, weatherDay } from './weather-records.ts';
import { evaluateAlertsOnce } from '../alerts/evaluate-once.ts';

/** The station and compare pages' HTML, their error pages and the served assets, on the real engine through inject(). */

let fixture: EngineFixture;
let app: FastifyInstance;

beforeEach(async () => {
  fixture = await startEngine({ resourceFiles: ['cloud/resources/default.json'] });
  const now = fixture.time.now();
  for (const e of envelopes('north_field', weatherDay({ end: now - 60_000, hours: 3, latest: { ambient_temperature: -1.2 } }))) await fixture.engine.handleMqttMessage(e.topic, e.payload);
  for (const e of envelopes('top_barn', weatherDay({ end: now - 60_000, hours: 1 }))) await fixture.engine.handleMqttMessage(e.topic, e.payload);
  await evaluateAlertsOnce(fixture);
  app = Fastify();
  registerWeatherPage(app, {
    source: new StoreWeatherSource({ store: fixture.engine.store }),
    alerts: new StoreAlertHistory(fixture.engine.store),
    settings: weatherPageSettings.parse({ timeZone: 'UTC' }),
    downloads: async () => [],
    log: silentLog,
    now: () => fixture.time.now(),
  });
});

afterEach(async () => {
  await app.close();
  await fixture.close();
});

/** Neither a stack frame nor an error class name reaches the user. */
const noStackTrace = (body: string) => expect(body).not.toMatch(/\bat .+:\d+:\d+|Error:|ZodError|node_modules/);
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('a station page', () => {
  it('is complete without JavaScript: readings, alerts, range links, chart boxes, downloads and the custom form', async () => {
    const response = await app.inject({ url: '/stations/north_field?range=7d' });
    expect(response.statusCode).toBe(200);
    const body = response.body;
    const words = text(body);
    expect(words).toContain('Air temperature −1.2 °C');
    expect(body).toMatch(/<div class="alert frost now" role="alert"><strong>Frost now<\/strong>/);
    for (const r of SERIES_RANGE_NAMES) expect(body).toContain(`href="/stations/north_field?range=${r}" data-range="${r}"${r === '7d' ? ' aria-current="true"' : '>'}`);
    expect(body.match(/aria-current="true"/g)).toHaveLength(1);
    for (const name of STATION_CHARTS) expect(body).toContain(`data-chart="${name}"`);
    expect(body).toContain(`data-series="${SERIES_PATHS.station('north_field')}?range=7d"`);
    expect(body).toContain(`<a class="button" data-download="csv" href="${SERIES_PATHS.download('north_field', 'csv')}?range=7d">`);
    expect(body).toContain(`<a class="button" data-download="json" href="${SERIES_PATHS.download('north_field', 'json')}?range=7d">`);
    expect(body).toMatch(/<form method="get" action="\/public\/stations\/north_field\/records\.csv" data-custom-download>.*name="from" required value="2023-12-25".*name="to" required value="2024-01-01"/);
    expect(words).toContain('Rain per hour (mm)');
    expect(words).toContain('The chart needs JavaScript');
    expect((await app.inject({ url: '/stations/north_field?range=1y' })).body).toContain('Rain per day (mm)');
    expect((await app.inject({ url: '/stations/north_field' })).body).toContain('data-range="24h" aria-current="true"');
  });

  it('loads only its own script and stylesheet, with no inline code, under a CSP that allows nothing else', async () => {
    const response = await app.inject({ url: '/stations/north_field' });
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    const scripts = response.body.match(/<script[^>]*>/g) ?? [];
    expect(scripts).toEqual([`<script defer src="${WEATHER_ASSETS.script}">`]);
    expect(response.body).toContain(`<link rel="stylesheet" href="${WEATHER_ASSETS.style}">`);
    expect(response.body).not.toMatch(/<style|style="|https?:\/\/|\son[a-z]+=/);
  });

  it('escapes a station id from the datastore everywhere it appears', async () => {
    const evil = 'x"><script>alert(1)</script>';
    const record = { ...weatherDay({ end: fixture.time.now() - 60_000, hours: 1, stepMs: 3600_000 })[0], device_id: evil };
    await fixture.engine.batchPutMessage({ channelName: 'weather_channel', messages: [{ messageId: 'e1', payload: Buffer.from(JSON.stringify(record)) }] });
    const response = await app.inject({ url: `/stations/${encodeURIComponent(evil)}` });
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('<script>alert');
    expect(response.body).toContain('data-station="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(response.body).toContain(`href="/stations/${encodeURIComponent(evil).replaceAll("'", '&#39;')}"`);
  });

  it('answers an unknown station with a 404 page that links back, and never echoes markup', async () => {
    const response = await app.inject({ url: '/stations/%3Cimg%20src%3Dx%3E' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(text(response.body)).toContain('Unknown station No station called &quot;&lt;img src=x&gt;&quot; has sent a reading');
    expect(response.body).toContain('&lt;img src=x&gt;');
    expect(response.body).not.toContain('<img src=x>');
    expect(response.body).toContain('<a href="/">← All stations</a>');
    noStackTrace(response.body);
  });

  it('answers a bad range with a 400 page naming the valid ones, whatever the input', async () => {
    for (const query of ['range=2w', 'range=%3Cscript%3E', 'range=7d&range=1y', 'range=', `range=${'9'.repeat(5000)}`]) {
      const response = await app.inject({ url: `/stations/north_field?${query}` });
      expect(response.statusCode, query).toBe(400);
      expect(text(response.body), query).toContain('Use range=24h, 7d, 30d, 1y: 24h (24 hours), 7d (7 days), 30d (30 days), 1y (1 year).');
      expect(response.body).toContain('href="/stations/north_field?range=7d" data-range="7d"');
      expect(response.body).not.toContain('<script>');
      expect(response.body.length, query).toBeLessThan(6000);
      noStackTrace(response.body);
    }
  });
});

describe('the compare page', () => {
  it('names the stations, links every quantity and range, and points its chart at the compare series', async () => {
    const response = await app.inject({ url: '/compare?quantity=wind_gust_speed&range=30d' });
    expect(response.statusCode).toBe(200);
    const body = response.body;
    expect(body).toContain(`data-compare="${SERIES_PATHS.compare}?quantity=wind_gust_speed&amp;range=30d"`);
    expect(body).toContain('data-chart="compare"');
    expect(body).toContain('href="/compare?quantity=wind_gust_speed&amp;range=7d" data-range="7d"');
    expect(body).toContain('href="/compare?quantity=humidity&amp;range=30d" data-quantity="humidity"');
    expect(body).toContain('data-quantity="wind_gust_speed" aria-current="true"');
    expect(text(body)).toContain('Stations: north_field , top_barn .');
    expect((await app.inject({ url: '/compare' })).body).toContain('data-quantity="ambient_temperature" aria-current="true"');
  });

  it('refuses an unknown quantity or range with a 400 page that lists the choices', async () => {
    const quantity = await app.inject({ url: '/compare?quantity=%22%3E%3Cb%3Esnow' });
    expect(quantity.statusCode).toBe(400);
    expect(text(quantity.body)).toContain('&quot;&quot;&gt;&lt;b&gt;snow&quot; is not a quantity');
    expect(quantity.body).not.toContain('<b>snow');
    expect(text(quantity.body)).toContain('Pick one of: ambient_temperature, ground_temperature, humidity, air_pressure, wind_speed, wind_gust_speed, wind_direction.');
    const range = await app.inject({ url: '/compare?quantity=humidity&range=forever' });
    expect(range.statusCode).toBe(400);
    expect(range.body).toContain('href="/compare?quantity=humidity&amp;range=1y" data-range="1y"');
    noStackTrace(quantity.body + range.body);
  });
});

describe('the station list', () => {
  it('gives each station a data-station element holding a link to its page', async () => {
    const body = (await app.inject({ url: '/' })).body;
    for (const id of ['north_field', 'top_barn']) expect(body).toMatch(new RegExp(`data-station="${id}"><h2><a href="/stations/${id}">`));
    expect(body).toContain('<a href="/compare">Compare stations</a>');
  });
});

describe('alerts on the page', () => {
  const time = timeFormat('UTC');

  it('show kind, headline, detail, and since/until when the alert carries them (epoch ms or ISO text)', () => {
    const html = alertsHtml(
      [
        { kind: 'frost', when: 'now', headline: 'Frost now', detail: 'air −1.0 °C', since: Date.UTC(2024, 0, 1, 4, 10) },
        { kind: 'offline', headline: 'Station offline', detail: 'no reading for 2 h', since: '2024-01-01T02:00:00Z', until: '2024-01-01T03:30:00Z' },
        { kind: 'high-wind', headline: '<b>gust</b>', detail: 'a & b' },
      ],
      time,
    );
    expect(html).toContain('<div class="alert frost now" role="alert"><strong>Frost now</strong><span class="when">since Mon 1 Jan, 04:10</span>air −1.0 °C</div>');
    expect(html).toContain('<div class="alert offline" role="alert"><strong>Station offline</strong><span class="when">since Mon 1 Jan, 02:00, until Mon 1 Jan, 03:30</span>');
    expect(html).toContain('<strong>&lt;b&gt;gust&lt;/b&gt;</strong>a &amp; b</div>');
  });
});

describe('the page assets', () => {
  it('serves the bundled chart script and the stylesheet with uPlot\'s CSS, cacheable and revalidated by ETag', async () => {
    const script = await app.inject({ url: WEATHER_ASSETS.script });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toContain('u-legend');
    expect(script.body).not.toMatch(/https?:\/\/(?!github\.com\/leeoniya)[a-z]/i);
    expect(script.body.length).toBeLessThan(150_000);
    const style = await app.inject({ url: WEATHER_ASSETS.style });
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(style.body).toContain('.uplot');
    expect(style.body).toMatch(/prefers-color-scheme: ?dark/);
    expect(style.body).not.toContain('@import');
    const again = await app.inject({ url: WEATHER_ASSETS.script, headers: { 'if-none-match': String(script.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });
});
