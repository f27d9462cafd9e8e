import { IoTAnalyticsServiceException } from '@aws-sdk/client-iotanalytics';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { apiSettings, type AccessKey, type ApiSettings } from '../../../cloud/api/api-settings.ts';
import { createContentUrls, type ContentUrls } from '../../../cloud/api/content-urls.ts';
import { buildApp, SIGNING_NAME } from '../../../cloud/api/server.ts';
import type { Operation } from '../../../cloud/api/operations.ts';
import { signRequest } from '../../../cloud/api/sigv4.ts';
import type { Engine } from '../../../cloud/engine/engine.ts';

/** Test helpers for the REST layer: signed inject() calls and an engine that records what it is asked. */

export const TEST_KEY: AccessKey = { accessKeyId: 'AKIDHEDGEROWTEST', secretAccessKey: 'test-secret-key-0123456789abcdef' };
export const silentLog = pino({ level: 'silent' });

export interface RecordingEngine {
  engine: Engine;
  calls: Array<{ method: string; input: unknown }>;
}

/** An Engine whose methods record their input and answer from `answers`; a method not given throws, so a test sees an unexpected call. */
export function recordingEngine(answers: Partial<Record<keyof Engine, (input: never) => unknown>> = {}): RecordingEngine {
  const calls: RecordingEngine['calls'] = [];
  const engine = new Proxy({} as Engine, {
    get(_target, method: string) {
      return async (input: unknown) => {
        calls.push({ method, input });
        const answer = answers[method as keyof Engine] as ((input: unknown) => unknown) | undefined;
        if (!answer) throw new Error(`engine.${method} was not expected in this test`);
        return answer(input);
      };
    },
  });
  return { engine, calls };
}

export interface TestApp {
  app: FastifyInstance;
  clock: { now: number };
  contentUrls: ContentUrls;
  settings: ApiSettings;
}

export async function testApp(engine: Engine, options: { settings?: Partial<ApiSettings>; operations?: readonly Operation[] } = {}): Promise<TestApp> {
  const clock = { now: Date.UTC(2026, 4, 1, 12, 0, 0) };
  const settings = apiSettings.parse({ accessKeys: [TEST_KEY], ...options.settings });
  const contentUrls = createContentUrls({ key: Buffer.alloc(32, 7), ttlSeconds: settings.contentUrlTtlSeconds, now: () => clock.now });
  const app = await buildApp({
    engine,
    settings,
    accessKeys: settings.accessKeys,
    contentUrls,
    log: silentLog,
    now: () => clock.now,
    requestId: (() => {
      let n = 0;
      return () => `req-${++n}`;
    })(),
    operations: options.operations,
  });
  return { app, clock, contentUrls, settings };
}

export interface SignedCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  url: string;
  body?: unknown;
  /** Raw body bytes/text, sent as is (for broken JSON). */
  rawBody?: string | Buffer;
  key?: AccessKey;
  time?: number;
  region?: string;
  service?: string;
  headers?: Record<string, string>;
}

/** Signs like the AWS SDK (host, x-amz-date, content-type signed) and injects. */
export function signedInject(app: FastifyInstance, clockNow: number, call: SignedCall): Promise<LightMyRequestResponse> {
  const payload = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  const body = payload === undefined ? Buffer.alloc(0) : Buffer.from(payload);
  const q = call.url.indexOf('?');
  const headers: Array<[string, string]> = Object.entries(call.headers ?? {});
  if (payload !== undefined && !headers.some(([n]) => n.toLowerCase() === 'content-type')) headers.push(['content-type', 'application/json']);
  const signed = signRequest(
    { method: call.method, path: q < 0 ? call.url : call.url.slice(0, q), query: q < 0 ? '' : call.url.slice(q + 1), headers, body, host: 'localhost:80' },
    { ...(call.key ?? TEST_KEY), region: call.region ?? 'eu-west-1', service: call.service ?? SIGNING_NAME, time: new Date(call.time ?? clockNow) },
  );
  const options: InjectOptions = { method: call.method, url: call.url, headers: Object.fromEntries(signed) };
  if (payload !== undefined) options.payload = body;
  return app.inject(options);
}

export function errorOf(response: LightMyRequestResponse): { type: string | undefined; status: number; message: string } {
  const body = response.body ? (JSON.parse(response.body) as { message?: string }) : {};
  return { type: response.headers['x-amzn-errortype'] as string | undefined, status: response.statusCode, message: body.message ?? '' };
}

/** The AWS SDK exception a call fails with; anything else (or success) fails the test. */
export async function failure(promise: Promise<unknown>): Promise<IoTAnalyticsServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof IoTAnalyticsServiceException) return error;
    throw error;
  }
  throw new Error('the call succeeded but was expected to fail');
}
