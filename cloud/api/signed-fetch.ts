import { signRequest, type SigningCredentials } from './sigv4.ts';

/**
 * A SigV4-signed JSON call with plain fetch, for the few calls no installed AWS client covers (IoT Core's
 * topic rules, signing name iot). The answer is parsed; an AWS-style error becomes a SignedFetchError
 * with the `x-amzn-ErrorType` name, status and message.
 */

export class SignedFetchError extends Error {
  constructor(
    readonly errorType: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }
}

export interface SignedFetchOptions {
  endpoint: string;
  credentials: SigningCredentials;
  region: string;
  service: string;
  now?: () => number;
}

export async function signedFetch(options: SignedFetchOptions, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const url = new URL(path, options.endpoint);
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
  const lines: Array<[string, string]> = Object.entries(headers);
  if (body !== undefined) lines.push(['content-type', 'application/json']);
  const signed = signRequest(
    { method, path: url.pathname, query: url.search.replace(/^\?/, ''), headers: lines, body: payload, host: url.host },
    { ...options.credentials, region: options.region, service: options.service, time: new Date((options.now ?? Date.now)()) },
  );
  const response = await fetch(url, {
    method,
    // fetch sets Host itself, from the URL, to the same value that was signed.
    headers: signed.filter(([name]) => name.toLowerCase() !== 'host'),
    body: body === undefined ? undefined : payload,
  });
  const text = await response.text();
  const parsed: unknown = text === '' ? {} : JSON.parse(text);
  if (!response.ok) {
    const type = response.headers.get('x-amzn-errortype')?.split(':')[0] ?? `HTTP${response.status}`;
    const message = (parsed as { message?: string }).message ?? response.statusText;
    throw new SignedFetchError(type, response.status, message);
  }
  return parsed;
}
