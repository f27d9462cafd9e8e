import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.ts';
import { InvalidRequestException, isEngineError } from '../engine/errors.ts';
import { ApiError, type ApiErrorCode } from './api-errors.ts';
import type { AccessKey, ApiSettings } from './api-settings.ts';
import { MAX_BODY_DEPTH, nestsDeeperThan } from './json-depth.ts';
import { CONTENT_PATH_PREFIX, type ContentUrls } from './content-urls.ts';
import { operationTable } from './operation-table.ts';
import { DEFAULT_SIGNING_NAME, type Operation, type OperationContext } from './operations.ts';
import { registerWeatherPage, type WeatherPageOptions } from '../dashboard/weather-routes.ts';
import { registerMetricsRoute } from './metrics-route.ts';
import { registerWeatherData } from '../dashboard/weather-data-routes.ts';
import { listPublicDatasets, registerPublicRoutes } from './public-routes.ts';
import { registerCollectionRoutes, type CollectionRouteOptions } from './collection-routes.ts';
import { verifyRequest } from './sigv4.ts';
import { parseQuery, splitUrl, toWire, wireRequestOf } from './wire.ts';
import { isRetryableStoreError } from '../storage/retryable-store-error.ts';

/**
 * The IoT Analytics REST API over fastify. `buildApp` wires the operation table, SigV4 authentication,
 * the presigned content links and the public dataset pages; it never listens, so tests use `inject()`
 * and `startCloud` calls `listen()`. Every error leaves as AWS sends it: status, `x-amzn-ErrorType`
 * header and a `{ message }` body, which is what the AWS SDK builds its exception classes from.
 */

export { DEFAULT_SIGNING_NAME as SIGNING_NAME } from './operations.ts';
/** Path params up to a name's 128 characters, percent-encoded (fastify's default is 100). */
const MAX_PARAM_LENGTH = 1024;

export interface BuildAppOptions {
  engine: Engine;
  settings: ApiSettings;
  accessKeys: readonly AccessKey[];
  contentUrls: ContentUrls;
  log: Logger;
  /** Clock for signature dates. Default Date.now. */
  now?: () => number;
  /** Request ids (x-amzn-RequestId). Default random UUIDs. */
  requestId?: () => string;
  /** The operation table. Default: every IoT Analytics operation. */
  operations?: readonly Operation[];
  /** The farmers' weather page (GET /, /weather, /public/stations.json). Default: not served. */
  weatherPage?: Pick<WeatherPageOptions, 'source' | 'settings' | 'alerts'>;
  /** The museum collection exchange (PUT /collections/{name}, GET /public/collections). Default: not served. */
  collections?: Omit<CollectionRouteOptions, 'authenticate' | 'absoluteUrl' | 'now'>;
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { engine, settings, log } = options;
  const now = options.now ?? Date.now;
  const secrets = new Map(options.accessKeys.map((k) => [k.accessKeyId, k.secretAccessKey]));

  const app = Fastify({
    // pino's Logger is fastify's logger; the cast only bridges two declarations of the same type.
    loggerInstance: log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: settings.bodyLimitBytes,
    // On close, drop every connection, including one still sending a body we refused: shutdown must not wait on a client.
    forceCloseConnections: true,
    genReqId: options.requestId ?? (() => randomUUID()),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (error, _request, reply) => {
      sendError(reply, 'InvalidRequestException', 400, `The request URL or headers are malformed: ${error.message}`);
    },
  });

  // Bodies stay bytes until after the signature check, which hashes exactly what was sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-amzn-RequestId', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    log.debug({ reqId: request.id, method: request.method, path: splitUrl(request.url).path, status: reply.statusCode }, 'api request');
  });

  /** With `payloadHash`, the signature is checked against it, for a body streamed afterwards (collection-routes.ts). */
  const authenticate = (request: FastifyRequest, service = DEFAULT_SIGNING_NAME, payloadHash?: string): string => {
    const result = verifyRequest(wireRequestOf(request), {
      service,
      region: settings.region,
      lookupSecret: (id) => secrets.get(id),
      now,
      maxSkewMs: settings.maxClockSkewSeconds * 1000,
      payloadHash,
    });
    if (!result.ok) throw new ApiError(result.code, result.message);
    return result.accessKeyId;
  };

  const absoluteUrl = (request: FastifyRequest) => (pathAndQuery: string) => {
    const base = settings.publicUrl?.replace(/\/+$/, '') ?? `${request.protocol}://${request.host || `${settings.host}:${settings.port}`}`;
    return `${base}${pathAndQuery}`;
  };

  for (const op of options.operations ?? operationTable) {
    app.route({
      method: op.method,
      url: op.path,
      handler: async (request, reply) => {
        authenticate(request, op.service);
        const body = op.takesBody ? parseJsonBody(request.body) : undefined;
        const input = op.parse({
          params: request.params as Record<string, string>,
          query: parseQuery(splitUrl(request.raw.url ?? '').query),
          body,
          headers: request.headers,
        });
        const context: OperationContext = { engine, absoluteUrl: absoluteUrl(request) };
        const result = await op.run(input, context);
        reply.code(op.status);
        if (op.status === 204) return reply.send();
        return reply.type('application/json').send(JSON.stringify(toWire(result ?? {})));
      },
    });
  }

  app.get(`${CONTENT_PATH_PREFIX}/:datasetName/:versionId/:entryName`, async (request, reply) => {
    const check = options.contentUrls.verify(request.params as { datasetName: string; versionId: string; entryName: string }, parseQuery(splitUrl(request.raw.url ?? '').query));
    if (!check.ok) throw new ApiError('AccessDeniedException', check.message);
    const file = await engine.openDatasetContent(check.ref);
    return reply
      .type(file.contentType)
      .header('content-length', file.sizeBytes)
      .header('content-disposition', `attachment; filename="${file.fileName.replace(/[^\w.-]/g, '_')}"`)
      .send(Readable.from(file.chunks()));
  });

  registerPublicRoutes(app, { engine, contentUrls: options.contentUrls, publicTag: settings.publicTag });
  registerMetricsRoute(app, { engine, settings: settings.metrics });
  if (options.collections) await registerCollectionRoutes(app, { ...options.collections, authenticate, absoluteUrl, now });
  if (options.weatherPage) registerWeatherPage(app, { ...options.weatherPage, downloads: () => listPublicDatasets(engine, settings.publicTag), log, now });
  if (options.weatherPage) registerWeatherData(app, { ...options.weatherPage, log, now });

  app.setNotFoundHandler(async (request) => {
    // Like AWS's front door, an unsigned call learns nothing about which paths exist.
    authenticate(request);
    throw new ApiError(
      'UnknownOperationException',
      `No IoT Analytics operation is ${request.method} ${splitUrl(request.url).path}; check the endpoint URL (the API is served at its root, e.g. /channels).`,
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ApiError) return sendError(reply, error.code, error.status, error.message);
    if (isEngineError(error)) return sendError(reply, error.code, error.status, error.message, error.toJSON());
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(reply, 'InvalidRequestException', 400, `The request body is larger than the ${settings.bodyLimitBytes} byte limit; send fewer or smaller messages per request.`);
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 && error.code?.startsWith('FST_')) {
      return sendError(reply, 'InvalidRequestException', 400, `The request is malformed: ${error.message}`);
    }
    if (isRetryableStoreError(error)) {
      // The database is restarting, busy or unreachable: a retry shortly succeeds (the AWS SDK retries a 503 by itself).
      log.warn({ err: error, reqId: request.id }, 'api request failed: the store is unavailable for the moment');
      return sendError(reply, 'ServiceUnavailableException', 503, `The engine's database is unavailable for the moment (restarting, busy or unreachable); retry shortly. Request id ${request.id}.`);
    }
    log.error({ err: error, reqId: request.id }, 'api request failed unexpectedly');
    return sendError(reply, 'InternalFailureException', 500, `The server failed unexpectedly; retry, and if it persists give the operator request id ${request.id}.`);
  });

  return app;
}

/** The JSON body as a value; an empty body is undefined. Broken JSON is the caller's error, with the parser's reason. */
export function parseJsonBody(raw: unknown): unknown {
  if (!(raw instanceof Uint8Array) || raw.length === 0) return undefined;
  if (nestsDeeperThan(raw, MAX_BODY_DEPTH)) {
    throw new InvalidRequestException(`The request body nests objects or arrays more than ${MAX_BODY_DEPTH} levels deep; no IoT Analytics request needs that many, so flatten it.`);
  }
  try {
    return JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'it nests too deeply';
    throw new InvalidRequestException(`The request body is not valid JSON: ${reason}.`);
  }
}

export function sendError(reply: FastifyReply, code: ApiErrorCode, status: number, message: string, body: Record<string, unknown> = { message }): FastifyReply {
  return reply
    .code(status)
    .header('x-amzn-ErrorType', code)
    .type('application/json')
    .send(JSON.stringify({ ...body, message }));
}
