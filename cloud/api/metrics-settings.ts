import { z } from 'zod';

/**
 * `api.metrics:` the Prometheus endpoint on the API port. Prometheus scrapes without SigV4, so
 * /metrics does not take the API's signatures: it is open, like the public weather pages, unless a
 * bearer token is set (Prometheus sends one with `authorization: { credentials: ... }`). It shows
 * counts and resource names, never data; set a token once api.host serves other machines.
 */
export const metricsSettings = z
  .object({
    /** Serve GET /metrics. Default true. */
    enabled: z.boolean().default(true),
    /** When set, a scrape must send `Authorization: Bearer <token>`. Default none (open). */
    bearerToken: z.string().min(16, 'use at least 16 characters; a long random string is best').optional(),
  })
  .strict();

export type MetricsSettings = z.output<typeof metricsSettings>;
