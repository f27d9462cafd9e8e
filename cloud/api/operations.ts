import { z } from 'zod';
import type { Engine } from '../engine/engine.ts';
import { InvalidRequestException } from '../engine/errors.ts';
import { ApiError } from './api-errors.ts';
import { maxResults } from '../model/common.ts';

/**
 * The operation table's building blocks. Each IoT Analytics operation is one entry: its name, method,
 * path and success status from service-2.json, zod schemas for the path, query and body, and a handler
 * that calls the engine. The server registers the entries; nothing else routes API calls, so an
 * operation that is not in the table can never fall through to a wrong handler.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** IoT Analytics' SigV4 signing name. */
export const DEFAULT_SIGNING_NAME = 'iotanalytics';

/** What the server hands an operation: decoded path params, the query (repeated names as arrays), the parsed JSON body. */
export interface RequestParts {
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  /** undefined when the request had no body. */
  body: unknown;
  /** Header values by lower-case name. */
  headers: Record<string, string | string[] | undefined>;
}

export interface OperationContext {
  engine: Engine;
  /** Turns a server-relative dataURI into an absolute URL for this request. */
  absoluteUrl: (pathAndQuery: string) => string;
}

/** One row of the table, with its types erased so rows of different operations fit in one array. */
export interface Operation {
  name: string;
  method: HttpMethod;
  /** fastify route pattern, e.g. `/channels/:channelName`. */
  path: string;
  /** Status on success (201 for Create*, 204 for Delete*, Tag*, Untag*, else 200). */
  status: number;
  /** Whether the request has a JSON body; other operations ignore any body, as AWS does. */
  takesBody: boolean;
  /** SigV4 signing name the request must be scoped to: iotanalytics, or iot for IoT Core's topic rules. */
  service: string;
  parse(parts: RequestParts): unknown;
  run(input: unknown, context: OperationContext): Promise<unknown>;
}

type Shape = z.ZodType<unknown>;
type Out<S> = S extends z.ZodType ? z.output<S> : Record<never, never>;

export interface OperationSpec<P extends Shape | undefined, Q extends Shape | undefined, B extends Shape | undefined, R, H extends object = Record<never, never>> {
  name: string;
  method: HttpMethod;
  path: string;
  status?: number;
  /** Signing name. Default iotanalytics. */
  service?: string;
  params?: P;
  query?: Q;
  /** Omit for operations without a request body (the body, if any, is then ignored, as AWS does). */
  body?: B;
  /** Input taken from headers (IoT's x-amz-tagging), merged like the rest. */
  headers?: (headers: RequestParts['headers']) => H;
  run: (input: Out<P> & Out<Q> & Out<B> & H, context: OperationContext) => Promise<R>;
}

/** Defines a row: parses params, query and body separately (so a body cannot override a path name), then merges them. */
export function operation<
  P extends Shape | undefined = undefined,
  Q extends Shape | undefined = undefined,
  B extends Shape | undefined = undefined,
  R = unknown,
  H extends object = Record<never, never>,
>(spec: OperationSpec<P, Q, B, R, H>): Operation {
  const status = spec.status ?? 200;
  return {
    name: spec.name,
    method: spec.method,
    path: spec.path,
    status,
    takesBody: spec.body !== undefined,
    service: spec.service ?? DEFAULT_SIGNING_NAME,
    parse(parts) {
      const params = spec.params ? parseWith(spec.params, parts.params, 'path') : {};
      const query = spec.query ? parseWith(spec.query, parts.query, 'query') : {};
      const body = spec.body ? parseWith(spec.body, parts.body ?? {}, 'body') : {};
      const headers = spec.headers ? spec.headers(parts.headers) : {};
      return { ...(body as object), ...headers, ...(query as object), ...(params as object) };
    },
    run: (input, context) => spec.run(input as Out<P> & Out<Q> & Out<B> & H, context),
  };
}

/**
 * A row for an operation of the API that Hedgerow does not provide: it answers NotImplementedException
 * (501) with the reason, so a client learns why instead of meeting a 404.
 */
export function notImplemented(name: string, method: HttpMethod, path: string, reason: string): Operation {
  return {
    name,
    method,
    path,
    status: 501,
    takesBody: false,
    service: DEFAULT_SIGNING_NAME,
    parse: () => ({}),
    run: () => Promise.reject(new ApiError('NotImplementedException', `${name} is not implemented by Hedgerow: ${reason}`)),
  };
}

/** Runs a zod schema and turns its first issues into one InvalidRequestException reason. */
export function parseWith<S extends Shape>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InvalidRequestException(describeIssues(result.error, where));
}

const MAX_REASONS = 3;

export function describeIssues(error: z.ZodError, where: string): string {
  const reasons = error.issues.slice(0, MAX_REASONS).map((issue) => {
    const at = issue.path.length > 0 ? issue.path.map(String).join('.') : where === 'body' ? '(request body)' : `(${where})`;
    return `${at}: ${issue.message}`;
  });
  const more = error.issues.length > MAX_REASONS ? ` (and ${error.issues.length - MAX_REASONS} more)` : '';
  return `Invalid ${where === 'body' ? 'request body' : `${where} parameters`}: ${reasons.join('; ')}${more}`;
}

// ---------- query parameter types: strings on the wire ----------

/** A whole number in the query, then checked by the model's schema for that member (cloud/model/). */
export const queryInt = (target: z.ZodType<number, number>) =>
  z
    .string({ error: 'give the number once' })
    .regex(/^-?\d{1,10}$/, 'expected a whole number')
    .transform(Number)
    .pipe(target);

export const queryBool = z.enum(['true', 'false'], { error: 'expected true or false' }).transform((s) => s === 'true');

/** ISO 8601 date-time (what the SDK sends in a query), or epoch seconds for hand-written calls. */
export const queryTimestamp = z
  .string({ error: 'give the timestamp once' })
  .transform((s, ctx) => {
    const ms = /^\d{1,12}(\.\d+)?$/.test(s)
      ? Number(s) * 1000
      : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)
        ? Date.parse(s)
        : Number.NaN;
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 date-time such as 2024-05-01T12:00:00Z, or epoch seconds' });
      return z.NEVER;
    }
    return new Date(ms);
  });

export const queryString = (inner: z.ZodString = z.string()) => z.string({ error: 'give the value once' }).pipe(inner);

/** A list in the query: `tagKeys=a&tagKeys=b`. */
export const queryList = <T extends z.ZodType<unknown, string>>(item: T) => z.union([z.string().transform((s) => [s]), z.array(z.string())]).pipe(z.array(item));

/** nextToken / maxResults of the List* operations (maxResults 1-250, default 100 in the engine). Unknown query names are ignored, as AWS does. */
export const listQuery = z.object({
  nextToken: queryString(z.string().min(1, 'nextToken must not be empty').max(4096)).optional(),
  maxResults: queryInt(maxResults).optional(),
});

export type { Engine };
