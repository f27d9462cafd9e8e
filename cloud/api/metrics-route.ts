import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Engine } from '../engine/engine.ts';
import type { MetricsSettings } from './metrics-settings.ts';

/**
 * GET /metrics: the engine's counters (cloud/engine/engine-metrics.ts) and prom-client's process
 * metrics, in Prometheus' text format. It is outside SigV4 (see metrics-settings.ts for why).
 */

export const METRICS_PATH = '/metrics';

let processRegistry: Registry | undefined;

/**
 * CPU, memory, event loop lag and handles belong to the process, however many engines it runs (a
 * test process runs dozens): one registry, made on first use, so their observers are set up once.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Compares digests, so neither the token's length nor its content leaks through timing. */
function sameToken(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function registerMetricsRoute(app: FastifyInstance, options: { engine: Pick<Engine, 'metrics'>; settings: MetricsSettings }): void {
  const { settings } = options;
  if (!settings.enabled) return;
  app.get(METRICS_PATH, async (request, reply) => {
    if (settings.bearerToken !== undefined) {
      const header = request.headers.authorization ?? '';
      const given = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      if (given === undefined || !sameToken(given, settings.bearerToken)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .type('text/plain; charset=utf-8')
          .send('GET /metrics needs "Authorization: Bearer <api.metrics.bearerToken>"; in Prometheus set authorization.credentials in the scrape config.\n');
      }
    }
    const merged = Registry.merge([options.engine.metrics().registry, processMetrics()]);
    return reply.type(merged.contentType).send(await merged.metrics());
  });
}
