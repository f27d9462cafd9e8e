import { signRequest, type SigningCredentials } from '../../../cloud/api/sigv4.ts';

/** A signed call whose body is sent as the exact text given, and whose extra headers may be added after signing, as an attacker on the path would. */
export interface RawCall {
  endpoint: string;
  credentials: SigningCredentials;
  method: string;
  path: string;
  body?: string | Uint8Array;
  region?: string;
  service?: string;
  /** Signed with the request. */
  headers?: Record<string, string>;
  /** Added after signing: not in SignedHeaders. */
  unsignedHeaders?: Record<string, string>;
}

export async function rawSignedFetch(call: RawCall): Promise<{ status: number; errorType: string | undefined; body: Record<string, unknown> }> {
  const url = new URL(call.path, call.endpoint);
  const payload = call.body === undefined ? Buffer.alloc(0) : Buffer.from(call.body);
  const lines: Array<[string, string]> = Object.entries(call.headers ?? {});
  if (call.body !== undefined) lines.push(['content-type', 'application/json']);
  const signed = signRequest(
    { method: call.method, path: url.pathname, query: url.search.replace(/^\?/, ''), headers: lines, body: payload, host: url.host },
    { ...call.credentials, region: call.region ?? 'eu-west-1', service: call.service ?? 'iotanalytics', time: new Date() },
  );
  const headers = [...signed.filter(([name]) => name.toLowerCase() !== 'host'), ...Object.entries(call.unsignedHeaders ?? {})];
  const response = await fetch(url, { method: call.method, headers, body: call.body === undefined ? undefined : payload });
  const text = await response.text();
  return { status: response.status, errorType: response.headers.get('x-amzn-errortype') ?? undefined, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}
