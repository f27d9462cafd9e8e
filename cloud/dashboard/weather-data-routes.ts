import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { SERIES_PATHS } from './series-contract.ts';
import { csvChunks, downloadFileName, jsonChunks } from './weather-download.ts';
import { compareQuery, downloadQuery, downloadWindow, MAX_DOWNLOAD_RECORDS, parseParams, seriesQuery, stationParams } from './weather-data-query.ts';
import type { WeatherPageSettings } from './weather-page-settings.ts';
import { listedStations, readComparedSeries, readStationSeries } from './weather-series.ts';
import type { WeatherSource } from './weather-source.ts';

/**
 * The weather page's data endpoints, open without credentials and read-only, as series-contract.ts
 * defines them: a station's chart series, one quantity across stations, and a station's raw records
 * as CSV or JSON. Bad input gets a 400 (or 404 for a station that never reported) with a JSON
 * `{ message }` saying what to send instead; nothing a caller sends reaches SQL except as a bound
 * parameter, and no error text from inside reaches the caller.
 */

export interface WeatherDataOptions {
  /** The weather datastore, read-only (the page's own source; it closes it). */
  source: WeatherSource;
  settings: WeatherPageSettings;
  log: Logger;
  /** Default Date.now. */
  now?: () => number;
  /** Most records one download holds. Default MAX_DOWNLOAD_RECORDS. */
  maxDownloadRecords?: number;
}

/** As the page: browsers and proxies may reuse an answer this long; stations report every minute or so. */
const CACHE_SECONDS = 30;
/** A contract path with fastify's parameter in place of the station id. */
const route = (path: (stationId: string) => string) => path('__station__').replace('__station__', ':stationId');

function refuse(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('application/json').send(JSON.stringify({ message }));
}

export function registerWeatherData(app: FastifyInstance, options: WeatherDataOptions): void {
  const { source, settings, log } = options;
  const now = options.now ?? Date.now;
  const maxRecords = options.maxDownloadRecords ?? MAX_DOWNLOAD_RECORDS;

  /** Runs `answer`; a failure to read the datastore becomes a 503 with a plain message, never a 500 or a stack. */
  const guarded = (answer: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      return await answer(request, reply);
    } catch (error) {
      log.error({ err: error, path: request.routeOptions.url }, 'weather data: reading the weather datastore failed');
      return refuse(reply.header('retry-after', '60'), 503, 'The weather data could not be read just now. Try again in a minute.');
    }
  };

  /** The station of the path, or undefined after answering 400 (not a station id) or 404 (never reported). */
  const station = async (request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> => {
    const params = parseParams(stationParams, request.params);
    if (!params.ok) {
      refuse(reply, 400, `The station id is not valid: ${params.message} The stations are listed at /public/stations.json.`);
      return undefined;
    }
    const { stationId } = params.value;
    if ((await source.latest(stationId)) === undefined) {
      refuse(reply, 404, `No station "${stationId}" has reported. The stations are listed at /public/stations.json.`);
      return undefined;
    }
    return stationId;
  };

  const json = (reply: FastifyReply, body: unknown) =>
    reply.code(200).header('cache-control', `public, max-age=${CACHE_SECONDS}`).type('application/json').send(JSON.stringify(body));

  app.get(
    route(SERIES_PATHS.station),
    guarded(async (request, reply) => {
      const query = parseParams(seriesQuery, request.query);
      if (!query.ok) return refuse(reply, 400, query.message);
      const stationId = await station(request, reply);
      if (stationId === undefined) return reply;
      return json(reply, await readStationSeries(source, stationId, query.value.range, now()));
    }),
  );

  app.get(
    SERIES_PATHS.compare,
    guarded(async (request, reply) => {
      const query = parseParams(compareQuery, request.query);
      if (!query.ok) return refuse(reply, 400, query.message);
      const at = now();
      const stations = await listedStations(source, settings, at);
      return json(reply, await readComparedSeries(source, stations, query.value.quantity, query.value.range, at));
    }),
  );

  for (const format of ['csv', 'json'] as const) {
    app.get(
      route((id) => SERIES_PATHS.download(id, format)),
      guarded(async (request, reply) => {
        const query = parseParams(downloadQuery, request.query);
        if (!query.ok) return refuse(reply, 400, query.message);
        const window = downloadWindow(query.value, now());
        if (!window.ok) return refuse(reply, 400, window.message);
        const stationId = await station(request, reply);
        if (stationId === undefined) return reply;
        const { from, to } = window.value;
        const count = await source.countRecords(stationId, from, to);
        if (count > maxRecords) {
          const days = Math.max(1, Math.floor(((to - from) / 86_400_000) * (maxRecords / count)));
          return refuse(reply, 400, `This window holds ${count.toLocaleString('en-US')} records; a download holds at most ${maxRecords.toLocaleString('en-US')}. Ask for about ${days} days at a time (from=…&to=…).`);
        }
        const described = { stationId, from, to };
        const records = source.records(stationId, from, to);
        const body = Readable.from(format === 'csv' ? csvChunks(records) : jsonChunks(described, records));
        body.on('error', (error) => log.error({ err: error, stationId }, 'weather data: a download stopped part-way'));
        return reply
          .code(200)
          .header('cache-control', `public, max-age=${CACHE_SECONDS}`)
          .header('content-disposition', `attachment; filename="${downloadFileName(described, format)}"`)
          .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
          .send(body);
      }),
    );
  }
}
