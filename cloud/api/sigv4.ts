import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * AWS Signature Version 4, both sides: `verifyRequest` checks what a client signed, `signRequest` signs
 * like the AWS SDK does (for tests, scripts and curl-like tools). Only node:crypto; the canonical form
 * follows the SigV4 spec for services other than S3: the wire path is URI-encoded once more ("double
 * encoding"), empty and dot segments are normalised away, the query is decoded, re-encoded and sorted,
 * header values are trimmed with inner runs of spaces collapsed, and the payload hash is the body's SHA-256.
 */

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
const SCOPE_TERMINATOR = 'aws4_request';
/** AWS accepts a request whose date is within 15 minutes of its own clock. */
export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNATURE_HEX = /^[0-9a-f]{64}$/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const ALL_UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const ALL_UNRESERVED_OR_SLASH = /^[A-Za-z0-9\-._~/]*$/;

/** A request as it travelled: the path and query still percent-encoded, header lines as received. */
export interface WireRequest {
  method: string;
  /** Path as sent, without the query, e.g. `/channels/my%20channel`. */
  path: string;
  /** Query string as sent, without the `?`. */
  query: string;
  /** Header lines in any case; a name may repeat. */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array;
}

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type AuthFailureCode =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException';

export type VerifyResult = { ok: true; accessKeyId: string } | { ok: false; code: AuthFailureCode; message: string };

export interface VerifyOptions {
  /** Signing name the credential scope must carry: `iotanalytics`. */
  service: string;
  /** When set, the only region accepted in the credential scope; otherwise any region string. */
  region?: string;
  /** The secret for an access key id, or undefined when the key is unknown. */
  lookupSecret: (accessKeyId: string) => string | undefined;
  now: () => number;
  /** Allowed clock difference. Default 15 minutes. */
  maxSkewMs?: number;
  /**
   * The payload hash to check the signature with, for a body streamed after the check (a published
   * bundle): the client's signed `x-amz-content-sha256`. The caller must then hash the body as it
   * arrives and refuse it when it differs. Default: the SHA-256 of `request.body`.
   */
  payloadHash?: string;
}

/** RFC 3986 encoding of UTF-8 bytes: unreserved characters stay, everything else becomes %XX (upper case). */
export function uriEncode(value: string | Uint8Array, keepSlash = false): string {
  // Most names and values need no escaping at all; skip the byte loop for them.
  if (typeof value === 'string' && (keepSlash ? ALL_UNRESERVED_OR_SLASH : ALL_UNRESERVED).test(value)) return value;
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (byte < 0x80 && (UNRESERVED.test(char) || (keepSlash && char === '/'))) out += char;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Percent-decodes to bytes without throwing: a `%` not followed by two hex digits stays literal, as servers treat it. */
export function percentDecode(value: string): Buffer {
  if (!value.includes('%')) return Buffer.from(value, 'utf8');
  const raw = Buffer.from(value, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    if (byte === 0x25 && i + 2 < raw.length && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
      out.push(Number.parseInt(String.fromCharCode(raw[i + 1]!, raw[i + 2]!), 16));
      i += 2;
    } else out.push(byte);
  }
  return Buffer.from(out);
}

function isHex(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));
}

/** The canonical URI: dot and empty segments removed, then the wire form encoded once more. */
export function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return uriEncode(`/${segments.join('/')}${trailing}`, true);
}

/** The canonical query: each name and value decoded, re-encoded strictly, sorted by name then value. */
export function canonicalQuery(query: string, skip: ReadonlySet<string> = new Set()): string {
  if (query === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const name = uriEncode(percentDecode(rawName));
    if (skip.has(name)) continue;
    pairs.push([name, uriEncode(percentDecode(rawValue))]);
  }
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** `name:value\n` for each signed header; repeated lines join with commas, as the spec says. */
export function canonicalHeaders(headers: WireRequest['headers'], signedHeaders: readonly string[]): string {
  const values = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const list = values.get(key) ?? [];
    list.push(value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').trim());
    values.set(key, list);
  }
  return signedHeaders.map((name) => `${name}:${(values.get(name) ?? []).join(',')}\n`).join('');
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalRequest(request: WireRequest, signedHeaders: readonly string[], payloadHash: string): string {
  return [
    request.method.toUpperCase(),
    canonicalUri(request.path),
    canonicalQuery(request.query),
    canonicalHeaders(request.headers, signedHeaders),
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update(SCOPE_TERMINATOR).digest();
}

export function hmacHex(key: Uint8Array, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** `20150830T123600Z` for a time. */
export function toAmzDate(time: Date): string {
  return time.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export interface SignOptions extends SigningCredentials {
  region: string;
  service: string;
  time: Date;
}

/**
 * Signs a request the way the AWS SDK does: adds `x-amz-date` and `host` (unless present) and signs every
 * header given. Returns the header lines to send, with `authorization` added.
 */
export function signRequest(request: Omit<WireRequest, 'headers'> & { headers: Array<[string, string]>; host?: string }, options: SignOptions): Array<[string, string]> {
  const amzDate = toAmzDate(options.time);
  const headers: Array<[string, string]> = [...request.headers];
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  if (!has('x-amz-date')) headers.push(['x-amz-date', amzDate]);
  if (!has('host') && request.host) headers.push(['host', request.host]);
  const signed = [...new Set(headers.map(([n]) => n.toLowerCase()))].sort();
  const scope = `${amzDate.slice(0, 8)}/${options.region}/${options.service}/${SCOPE_TERMINATOR}`;
  const canonical = canonicalRequest({ ...request, headers }, signed, sha256Hex(request.body));
  const signature = hmacHex(signingKey(options.secretAccessKey, amzDate.slice(0, 8), options.region, options.service), stringToSign(amzDate, scope, canonical));
  headers.push([
    'authorization',
    `${SIGV4_ALGORITHM} Credential=${options.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`,
  ]);
  return headers;
}

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

function fail(code: AuthFailureCode, message: string): VerifyResult {
  return { ok: false, code, message };
}

function headerValue(request: WireRequest, name: string): string | undefined {
  const line = request.headers.find(([n]) => n.toLowerCase() === name);
  return line?.[1];
}

function parseAuthorization(value: string): ParsedAuthorization | string {
  const space = value.indexOf(' ');
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) return `Unsupported Authorization algorithm '${algorithm.slice(0, 40)}': sign with ${SIGV4_ALGORITHM}.`;
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((f) => !fields.get(f));
  if (missing.length > 0) return missing.map((f) => `Authorization header requires '${f}' parameter.`).join(' ');
  const credential = fields.get('Credential')!.split('/');
  if (credential.length !== 5 || credential.some((p) => p === '')) {
    return "Authorization header's Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request.";
  }
  const [accessKeyId, date, region, service, terminator] = credential as [string, string, string, string, string];
  return {
    accessKeyId,
    date,
    region,
    service,
    terminator,
    signedHeaders: fields.get('SignedHeaders')!.split(';'),
    signature: fields.get('Signature')!,
  };
}

function parseRequestTime(request: WireRequest): { amzDate: string; ms: number } | undefined {
  const amz = headerValue(request, 'x-amz-date');
  if (amz !== undefined) {
    const m = AMZ_DATE.exec(amz.trim());
    if (!m) return undefined;
    const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    return Number.isNaN(ms) ? undefined : { amzDate: amz.trim(), ms };
  }
  const date = headerValue(request, 'date');
  if (date === undefined) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : { amzDate: toAmzDate(new Date(ms)), ms };
}

/** Checks a header-signed request. The failures carry the error names and messages AWS services return. */
export function verifyRequest(request: WireRequest, options: VerifyOptions): VerifyResult {
  const authorization = headerValue(request, 'authorization');
  if (authorization === undefined || authorization.trim() === '') {
    return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const parsed = parseAuthorization(authorization.trim());
  if (typeof parsed === 'string') return fail('IncompleteSignatureException', parsed);
  const time = parseRequestTime(request);
  if (!time) {
    return fail('IncompleteSignatureException', "Authorization header requires existence of either a valid 'X-Amz-Date' or a 'Date' header.");
  }
  if (!parsed.signedHeaders.includes('host')) {
    return fail('IncompleteSignatureException', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (headerValue(request, 'x-amz-security-token') !== undefined) {
    return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  const secret = options.lookupSecret(parsed.accessKeyId);
  if (secret === undefined) return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (parsed.terminator !== SCOPE_TERMINATOR) {
    return fail('InvalidSignatureException', `Credential should be scoped with a valid terminator: '${SCOPE_TERMINATOR}', not '${parsed.terminator}'.`);
  }
  if (parsed.service !== options.service) {
    return fail('InvalidSignatureException', `Credential should be scoped to correct service: '${options.service}'.`);
  }
  if (options.region !== undefined && parsed.region !== options.region) {
    return fail('InvalidSignatureException', `Credential should be scoped to a valid region, not '${parsed.region}'. This endpoint's region is '${options.region}': set the client's region to it.`);
  }
  if (parsed.date !== time.amzDate.slice(0, 8)) {
    return fail(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.date}' != '${time.amzDate.slice(0, 8)}', from '${time.amzDate}'.`,
    );
  }
  const now = options.now();
  const skew = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const minutes = Math.round(skew / 60_000);
  if (time.ms < now - skew) {
    return fail(
      'InvalidSignatureException',
      `Signature expired: ${time.amzDate} is now earlier than ${toAmzDate(new Date(now - skew))} (${toAmzDate(new Date(now))} - ${minutes} min.)`,
    );
  }
  if (time.ms > now + skew) {
    return fail(
      'InvalidSignatureException',
      `Signature not yet current: ${time.amzDate} is still later than ${toAmzDate(new Date(now + skew))} (${toAmzDate(new Date(now))} + ${minutes} min.)`,
    );
  }
  const payloadHash = options.payloadHash ?? sha256Hex(request.body);
  const declared = headerValue(request, 'x-amz-content-sha256');
  if (declared !== undefined && declared.trim() !== payloadHash) {
    return fail('InvalidSignatureException', "The 'x-amz-content-sha256' header does not match the SHA-256 of the body; sign the payload itself.");
  }
  const scope = `${parsed.date}/${parsed.region}/${parsed.service}/${SCOPE_TERMINATOR}`;
  const canonical = canonicalRequest(request, parsed.signedHeaders, payloadHash);
  const toSign = stringToSign(time.amzDate, scope, canonical);
  const expected = hmacHex(signingKey(secret, parsed.date, parsed.region, parsed.service), toSign);
  if (!constantTimeEqualHex(expected, parsed.signature)) {
    return fail(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. ' +
        `Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${canonical}'\n\n` +
        `The String-to-Sign should have been\n'${toSign}'\n`,
    );
  }
  const unsigned = unsignedAmzHeaders(request, parsed.signedHeaders);
  if (unsigned.length > 0) {
    // Otherwise anyone on the path could add x-amz-tagging and the like to a request the client signed.
    return fail(
      'InvalidSignatureException',
      `There were headers present in the request which were not signed: ${unsigned.join(', ')}. Sign every x-amz-* header you send (the AWS SDKs do), or leave it out.`,
    );
  }
  return { ok: true, accessKeyId: parsed.accessKeyId };
}

/** The x-amz-* header names present but missing from SignedHeaders, each once, in the order sent. */
function unsignedAmzHeaders(request: WireRequest, signedHeaders: readonly string[]): string[] {
  const signed = new Set(signedHeaders);
  const names = request.headers.map(([name]) => name.toLowerCase()).filter((name) => name.startsWith('x-amz-') && !signed.has(name));
  return [...new Set(names)];
}

/** Compares two hex signatures in time independent of where they differ. */
export function constantTimeEqualHex(expected: string, given: string): boolean {
  if (!SIGNATURE_HEX.test(given)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'));
}
