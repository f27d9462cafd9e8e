import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { AlertHistory } from '../alerts/alert-history.ts';
import { DEFAULT_SERIES_RANGE, SERIES_RANGE_NAMES, SERIES_RANGES, seriesQuantity, seriesRange, type SeriesQuantity, type SeriesRange } from './series-contract.ts';
import { registerWeatherAssets } from './weather-assets.ts';
import { escapeHtml, timeFormat, type TimeFormat } from './weather-format.ts';
import { COMPARE_PATH, renderPage, renderProblem, stationPath, type PublicDownload } from './weather-html.ts';
import { comparePath, renderComparePage, renderStationPage } from './weather-station-html.ts';
import type { WeatherPageSettings } from './weather-page-settings.ts';
import type { WeatherSource } from './weather-source.ts';
import { readSnapshot, SLICE_MS, type StationSummary, type WeatherSnapshot } from './weather-summary.ts';

/**
 * The farmers' public weather routes, open without credentials and read-only: the station list at `/`
 * and `/weather`, a page per station at `/stations/<id>?range=…`, the compare view at
 * `/compare?quantity=…&range=…`, their script and stylesheet under /assets/, and the list's figures as
 * JSON at `/public/stations.json`. The series the charts draw are the data routes' (series-contract.ts);
 * the list's downloads are the datasets tagged public (served by public-routes.ts).
 */

export const WEATHER_PAGE_PATHS = ['/', '/weather'] as const;
export const STATIONS_JSON_PATH = '/public/stations.json';
export const STATION_PAGE_PREFIX = '/stations/';
/** Browsers and proxies may reuse a page this long; stations report every minute or so. */
const CACHE_SECONDS = 30;
const PAGE_HEADERS = {
  'cache-control': `public, max-age=${CACHE_SECONDS}`,
  // Script and style only from the engine's own /assets/, never inline, so an escaping slip still could
  // not run code; the charts fetch their series from the same origin, and the download form submits there.
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export interface WeatherPageOptions {
  /** The weather datastore, read-only; closed when the app closes. */
  source: WeatherSource;
  settings: WeatherPageSettings;
  /** The alert engine's store, read-only; closed when the app closes. Default: no alerts shown. */
  alerts?: AlertHistory;
  /** The datasets tagged public, for the download links. */
  downloads: () => Promise<PublicDownload[]>;
  log: Logger;
  /** Default Date.now. */
  now?: () => number;
}

function stationJson(s: StationSummary) {
  return {
    stationId: s.stationId,
    lastReading: { ts: s.latest.ts, ...s.latest.values, sensors: s.latest.sensors },
    ageSeconds: Math.round(s.ageMs / 1000),
    stale: s.stale,
    rainLastHour: s.rainLastHour,
    last24h: { airMin: s.day.airMin, groundMin: s.day.groundMin, rain: s.day.rain, gustMax: s.day.gustMax },
    alerts: s.alerts,
    slices: s.slices.flatMap((b) => (b === undefined ? [] : [{ start: s.from + b.index * SLICE_MS, ...b, index: undefined }])),
  };
}

type Picked<T> = { ok: true; value: T } | { ok: false; given: string };

/** A query parameter as one short printable string, for an error message (a repeated one is refused too). */
function given(raw: unknown): string {
  const text = Array.isArray(raw) ? raw.map(String).join(',') : String(raw);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function pickRange(raw: unknown): Picked<SeriesRange> {
  const parsed = seriesRange.safeParse(raw ?? DEFAULT_SERIES_RANGE);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, given: given(raw) };
}

function pickQuantity(raw: unknown): Picked<SeriesQuantity> {
  const parsed = seriesQuantity.safeParse(raw ?? 'ambient_temperature');
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, given: given(raw) };
}

function badRange(settings: WeatherPageSettings, time: TimeFormat, wrong: string, href: (r: SeriesRange) => string): string {
  const names = SERIES_RANGE_NAMES.map((r) => `${r} (${SERIES_RANGES[r].label})`).join(', ');
  const links = SERIES_RANGE_NAMES.map((r) => `<a href="${escapeHtml(href(r))}" data-range="${r}">${escapeHtml(SERIES_RANGES[r].label)}</a>`).join(' · ');
  return renderProblem({ settings, time, heading: 'Unknown range', message: `"${wrong}" is not a range the charts can show. Use range=${SERIES_RANGE_NAMES.join(', ')}: ${names}.`, linksHtml: links });
}

export function registerWeatherPage(app: FastifyInstance, options: WeatherPageOptions): void {
  const { source, settings, log } = options;
  const now = options.now ?? Date.now;
  const time = timeFormat(settings.timeZone);

  app.addHook('onClose', async () => {
    await source.close();
    await options.alerts?.close();
  });

  /** The figures, or undefined after answering 503 (as HTML or JSON) when the datastore cannot be read. */
  const snapshot = async (reply: FastifyReply, as: 'html' | 'json'): Promise<WeatherSnapshot | undefined> => {
    try {
      return await readSnapshot(source, settings, now(), time.clock, options.alerts);
    } catch (error) {
      log.error({ err: error }, 'weather page: reading the weather datastore failed');
      const message = 'The weather data could not be read just now. Try again in a minute.';
      void reply.code(503).headers(PAGE_HEADERS).header('retry-after', '60');
      if (as === 'json') void reply.type('application/json').send(JSON.stringify({ message }));
      else void reply.type('text/html; charset=utf-8').send(`<!doctype html><meta charset="utf-8"><title>${escapeHtml(settings.title)}</title><p>${message}</p>`);
      return undefined;
    }
  };

  registerWeatherAssets(app, log);
  const html = (reply: FastifyReply, code: number, body: string) => reply.code(code).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(body);

  for (const url of WEATHER_PAGE_PATHS) {
    app.get(url, async (_request, reply) => {
      const snap = await snapshot(reply, 'html');
      if (!snap) return reply;
      const downloads = await options.downloads().catch((error: unknown) => {
        log.warn({ err: error }, 'weather page: listing public datasets failed; showing the page without downloads');
        return [];
      });
      return html(reply, 200, renderPage({ snapshot: snap, settings, time, downloads }));
    });
  }

  app.get<{ Params: { stationId: string }; Querystring: Record<string, unknown> }>(`${STATION_PAGE_PREFIX}:stationId`, async (request, reply) => {
    const { stationId } = request.params;
    const range = pickRange(request.query.range);
    if (!range.ok) return html(reply, 400, badRange(settings, time, range.given, (r) => `${stationPath(stationId)}?range=${r}`));
    const snap = await snapshot(reply, 'html');
    if (!snap) return reply;
    const station = snap.stations.find((s) => s.stationId === stationId);
    if (!station) {
      const message = `No station called "${stationId}" has sent a reading in the last ${settings.hideAfterDays} days. Check the name, or pick a station from the list.`;
      return html(reply, 404, renderProblem({ settings, time, heading: 'Unknown station', message, linksHtml: '<a href="/">← All stations</a>' }));
    }
    return html(reply, 200, renderStationPage({ station, range: range.value, settings, time, now: snap.now }));
  });

  app.get<{ Querystring: Record<string, unknown> }>(COMPARE_PATH, async (request, reply) => {
    const range = pickRange(request.query.range);
    const quantity = pickQuantity(request.query.quantity);
    if (!quantity.ok) {
      const links = seriesQuantity.options.map((q) => `<a href="${escapeHtml(comparePath(q, range.ok ? range.value : DEFAULT_SERIES_RANGE))}">${escapeHtml(q)}</a>`).join(' · ');
      const message = `"${quantity.given}" is not a quantity the page can compare. Pick one of: ${seriesQuantity.options.join(', ')}.`;
      return html(reply, 400, renderProblem({ settings, time, heading: 'Unknown quantity', message, linksHtml: links }));
    }
    if (!range.ok) return html(reply, 400, badRange(settings, time, range.given, (r) => comparePath(quantity.value, r)));
    const snap = await snapshot(reply, 'html');
    if (!snap) return reply;
    return html(reply, 200, renderComparePage({ quantity: quantity.value, range: range.value, stationIds: snap.stations.map((s) => s.stationId), settings, time, now: snap.now }));
  });

  app.get(STATIONS_JSON_PATH, async (_request, reply) => {
    const snap = await snapshot(reply, 'json');
    if (!snap) return reply;
    const body = {
      generatedAt: snap.now,
      timeZone: time.zone,
      thresholds: {
        frostAtOrBelowC: settings.frostAtOrBelowC,
        heavyRainMmPerHour: settings.heavyRainMmPerHour,
        heavyRainMmPerDay: settings.heavyRainMmPerDay,
        highGustKmh: settings.highGustKmh,
        staleAfterMinutes: settings.staleAfterMinutes,
      },
      stations: snap.stations.map(stationJson),
      hiddenStations: snap.hidden,
    };
    return reply.code(200).header('cache-control', `public, max-age=${CACHE_SECONDS}`).type('application/json').send(JSON.stringify(body));
  });
}
