import type { FastifyRequest } from 'fastify';
import { percentDecode, type WireRequest } from './sigv4.ts';

/**
 * The rest-json wire format at the edge: responses carry timestamps as epoch seconds and blobs as
 * base64; queries are decoded byte-exactly (no "+" as space, since the SDK sends %20 and %2B).
 */

/** Engine values to JSON-ready wire values: Date → epoch seconds, bytes → base64, undefined dropped. */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (inner !== undefined) out[key] = toWire(inner);
    }
    return out;
  }
  return value;
}

/** `a=1&b=x&b=y` → `{ a: '1', b: ['x', 'y'] }`. */
export function parseQuery(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq)).toString('utf8');
    const value = percentDecode(eq < 0 ? '' : part.slice(eq + 1)).toString('utf8');
    const seen = out[name];
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

export function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** The request as it came over the wire, for SigV4: raw path and query, every header line, body bytes. */
export function wireRequestOf(request: FastifyRequest): WireRequest {
  const { path, query } = splitUrl(request.raw.url ?? '/');
  const raw = request.raw.rawHeaders;
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
  const body = request.body instanceof Uint8Array ? request.body : new Uint8Array(0);
  return { method: request.method, path, query, headers, body };
}
