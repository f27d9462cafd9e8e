import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { AlertHistory } from '../alerts/alert-history.ts';
import { escapeHtml, timeFormat } from './weather-format.ts';
import { renderPage, type PublicDownload } from './weather-html.ts';
import type { WeatherPageSettings } from './weather-page-settings.ts';
import type { WeatherSource } from './weather-source.ts';
import { readSnapshot, SLICE_MS, type StationSummary, type WeatherSnapshot } from './weather-summary.ts';

/**
 * The farmers' public weather routes, open without credentials and read-only: the page at `/` and
 * `/weather`, and the same figures as JSON at `/public/stations.json`. The page's downloads are the
 * datasets tagged public (served by public-routes.ts).
 */

export const WEATHER_PAGE_PATHS = ['/', '/weather'] as const;
export const STATIONS_JSON_PATH = '/public/stations.json';
/** Browsers and proxies may reuse a page this long; stations report every minute or so. */
const CACHE_SECONDS = 30;
const PAGE_HEADERS = {
  'cache-control': `public, max-age=${CACHE_SECONDS}`,
  // The page has no script and no external asset: forbid both, so an escaping slip still could not run code.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
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

  for (const url of WEATHER_PAGE_PATHS) {
    app.get(url, async (_request, reply) => {
      const snap = await snapshot(reply, 'html');
      if (!snap) return reply;
      const downloads = await options.downloads().catch((error: unknown) => {
        log.warn({ err: error }, 'weather page: listing public datasets failed; showing the page without downloads');
        return [];
      });
      return reply.code(200).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(renderPage({ snapshot: snap, settings, time, downloads }));
    });
  }

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
