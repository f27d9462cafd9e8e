import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  canonicalUri,
  signRequest,
  uriEncode,
  verifyRequest,
  type VerifyOptions,
  type WireRequest,
} from '../../../cloud/api/sigv4.ts';

// The AWS SigV4 test suite (aws-sig-v4-test-suite, 2015-08-30 edition), as published by AWS and used by
// every SDK: credentials, date, region and service are fixed; each case gives the request and the
// signature AWS expects. Paths and queries are written as they appear on the wire.
const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_TIME = new Date('2015-08-30T12:36:00Z');
const HOST: [string, string] = ['Host', 'example.amazonaws.com'];
const DATE: [string, string] = ['X-Amz-Date', '20150830T123600Z'];

interface Vector {
  name: string;
  method: string;
  path: string;
  query?: string;
  headers?: Array<[string, string]>;
  body?: string;
  signature: string;
}

const suite: Vector[] = [
  { name: 'get-vanilla', method: 'GET', path: '/', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'post-vanilla', method: 'POST', path: '/', signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' },
  {
    name: 'get-vanilla-empty-query-key',
    method: 'GET',
    path: '/',
    query: 'Param1=value1',
    signature: 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    method: 'GET',
    path: '/',
    query: 'Param2=value2&Param1=value1',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-unreserved',
    method: 'GET',
    path: '/',
    query:
      '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  {
    name: 'get-vanilla-utf8-query',
    method: 'GET',
    path: '/',
    query: '%E1%88%B4=bar',
    signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
  },
  {
    name: 'post-vanilla-query-nonunreserved',
    method: 'POST',
    path: '/',
    query: '%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D',
    signature: '66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e',
  },
  { name: 'post-vanilla-query-space', method: 'POST', path: '/', query: 'p=', signature: 'e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b' },
  {
    name: 'get-unreserved',
    method: 'GET',
    path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  { name: 'get-utf8', method: 'GET', path: '/ሴ', signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85' },
  {
    name: 'get-header-key-duplicate',
    method: 'GET',
    path: '/',
    headers: [
      ['My-Header1', 'value2'],
      ['My-Header1', 'value2'],
      ['My-Header1', 'value1'],
    ],
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'get-header-value-order',
    method: 'GET',
    path: '/',
    headers: [
      ['My-Header1', 'value4'],
      ['My-Header1', 'value1'],
      ['My-Header1', 'value3'],
      ['My-Header1', 'value2'],
    ],
    signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
  },
  {
    name: 'get-header-value-trim',
    method: 'GET',
    path: '/',
    headers: [
      ['My-Header1', ' value1'],
      ['My-Header2', ' "a   b   c"'],
    ],
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'post-header-key-sort',
    method: 'POST',
    path: '/',
    headers: [['My-Header1', 'value1']],
    signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c',
  },
  {
    name: 'post-header-value-case',
    method: 'POST',
    path: '/',
    headers: [['My-Header1', 'VALUE1']],
    signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    path: '/',
    headers: [['Content-Type', 'application/x-www-form-urlencoded']],
    body: 'Param1=value1',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    name: 'post-x-www-form-urlencoded-parameters',
    method: 'POST',
    path: '/',
    headers: [['Content-Type', 'application/x-www-form-urlencoded; charset=utf8']],
    body: 'Param1=value1',
    signature: '1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe',
  },
];

function wire(v: Vector): WireRequest & { headers: Array<[string, string]> } {
  return { method: v.method, path: v.path, query: v.query ?? '', headers: [HOST, ...(v.headers ?? []), DATE], body: Buffer.from(v.body ?? '') };
}

const verifyAt = (time: Date): VerifyOptions => ({
  service: 'service',
  lookupSecret: (id) => (id === KEY.accessKeyId ? KEY.secretAccessKey : undefined),
  now: () => time.getTime(),
});

function authorizationOf(headers: Array<[string, string]>): string {
  return headers.find(([n]) => n === 'authorization')![1];
}

describe('SigV4 against the AWS test suite', () => {
  for (const vector of suite) {
    it(`${vector.name}: signs with the published signature and verifies`, () => {
      const signed = signRequest(wire(vector), { ...KEY, region: 'us-east-1', service: 'service', time: SUITE_TIME });
      expect(authorizationOf(signed)).toMatch(new RegExp(`Signature=${vector.signature}$`));
      expect(verifyRequest({ ...wire(vector), headers: signed }, verifyAt(SUITE_TIME))).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
    });
  }

  it('post-sts-header-before: a session token is signed but refused, since hedgerow issues none', () => {
    const token = 'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';
    const v: Vector = { name: 'sts', method: 'POST', path: '/', headers: [['X-Amz-Security-Token', token]], signature: '' };
    const signed = signRequest(wire(v), { ...KEY, region: 'us-east-1', service: 'service', time: SUITE_TIME });
    expect(authorizationOf(signed)).toMatch(/Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead$/);
    const result = verifyRequest({ ...wire(v), headers: signed }, verifyAt(SUITE_TIME));
    expect(result).toMatchObject({ ok: false, code: 'UnrecognizedClientException' });
  });
});

describe('SigV4 canonical forms', () => {
  it('encodes the wire path once more, as AWS does for every service but S3', () => {
    expect(canonicalUri('/channels/a%20b')).toBe('/channels/a%2520b');
    expect(canonicalUri('/example space/')).toBe('/example%20space/');
    expect(canonicalUri('//a/./b/../c//')).toBe('/a/c/');
    expect(canonicalUri('/')).toBe('/');
  });

  it('decodes, re-encodes and sorts the query, keeping repeated names in value order', () => {
    expect(canonicalQuery('tagKeys=b&resourceArn=arn%3Aaws&tagKeys=a')).toBe('resourceArn=arn%3Aaws&tagKeys=a&tagKeys=b');
    expect(canonicalQuery('a=%2x&b')).toBe('a=%252x&b=');
    expect(uriEncode("!'()*")).toBe('%21%27%28%29%2A');
  });
});

describe('SigV4 verification failures', () => {
  const base = suite[0]!;
  const sign = (time = SUITE_TIME, key = KEY, region = 'us-east-1', service = 'service') =>
    signRequest(wire(base), { ...key, region, service, time });

  it('refuses an unsigned request as missing a token', () => {
    expect(verifyRequest(wire(base), verifyAt(SUITE_TIME))).toEqual({
      ok: false,
      code: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });

  it('refuses an unknown key id, a wrong secret, a wrong service and a changed body', () => {
    expect(verifyRequest({ ...wire(base), headers: sign(SUITE_TIME, { ...KEY, accessKeyId: 'AKIDOTHER' }) }, verifyAt(SUITE_TIME))).toMatchObject({
      code: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
    const wrongSecret = verifyRequest({ ...wire(base), headers: sign(SUITE_TIME, { ...KEY, secretAccessKey: 'nope' }) }, verifyAt(SUITE_TIME));
    expect(wrongSecret).toMatchObject({ code: 'InvalidSignatureException' });
    expect(wrongSecret.ok === false && wrongSecret.message).toMatch(/^The request signature we calculated does not match/);
    expect(verifyRequest({ ...wire(base), headers: sign(SUITE_TIME, KEY, 'us-east-1', 'iot') }, verifyAt(SUITE_TIME))).toMatchObject({
      code: 'InvalidSignatureException',
      message: "Credential should be scoped to correct service: 'service'.",
    });
    const tampered = { ...wire(base), headers: sign(), body: Buffer.from('x') };
    expect(verifyRequest(tampered, verifyAt(SUITE_TIME))).toMatchObject({ code: 'InvalidSignatureException' });
  });

  it('accepts any region unless one is configured', () => {
    const signed = { ...wire(base), headers: sign(SUITE_TIME, KEY, 'eu-west-1') };
    expect(verifyRequest(signed, verifyAt(SUITE_TIME)).ok).toBe(true);
    expect(verifyRequest(signed, { ...verifyAt(SUITE_TIME), region: 'us-east-1' })).toMatchObject({ code: 'InvalidSignatureException' });
  });

  it('refuses x-amz-* headers sent but not signed, naming each, and ignores other unsigned headers', () => {
    const signed = sign();
    expect(verifyRequest({ ...wire(base), headers: [...signed, ['User-Agent', 'curl'], ['X-Amzn-Trace-Id', 'Root=1']] }, verifyAt(SUITE_TIME)).ok).toBe(true);
    const added: Array<[string, string]> = [...signed, ['X-Amz-Tagging', 'owner=attacker'], ['x-amz-meta-a', '1'], ['x-amz-tagging', 'again']];
    expect(verifyRequest({ ...wire(base), headers: added }, verifyAt(SUITE_TIME))).toEqual({
      ok: false,
      code: 'InvalidSignatureException',
      message:
        'There were headers present in the request which were not signed: x-amz-tagging, x-amz-meta-a. Sign every x-amz-* header you send (the AWS SDKs do), or leave it out.',
    });
    const signedTagging = signRequest({ ...wire(base), headers: [...wire(base).headers, ['x-amz-tagging', 'owner=school']] }, { ...KEY, region: 'us-east-1', service: 'service', time: SUITE_TIME });
    expect(verifyRequest({ ...wire(base), headers: signedTagging }, verifyAt(SUITE_TIME)).ok).toBe(true);
  });

  it('expires a signature outside ±15 minutes with the message AWS gives', () => {
    const signed = { ...wire(base), headers: sign() };
    expect(verifyRequest(signed, verifyAt(new Date(SUITE_TIME.getTime() + 14 * 60_000))).ok).toBe(true);
    expect(verifyRequest(signed, verifyAt(new Date(SUITE_TIME.getTime() + 16 * 60_000)))).toEqual({
      ok: false,
      code: 'InvalidSignatureException',
      message: 'Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)',
    });
    expect(verifyRequest(signed, verifyAt(new Date(SUITE_TIME.getTime() - 16 * 60_000)))).toMatchObject({
      code: 'InvalidSignatureException',
      message: expect.stringMatching(/^Signature not yet current: 20150830T123600Z is still later than/),
    });
  });

  it('names what is missing from a malformed Authorization header', () => {
    const headers: Array<[string, string]> = [HOST, DATE, ['Authorization', 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request']];
    expect(verifyRequest({ ...wire(base), headers }, verifyAt(SUITE_TIME))).toEqual({
      ok: false,
      code: 'IncompleteSignatureException',
      message: "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
    });
    const basic: Array<[string, string]> = [HOST, DATE, ['Authorization', 'Basic dXNlcjpwYXNz']];
    expect(verifyRequest({ ...wire(base), headers: basic }, verifyAt(SUITE_TIME))).toMatchObject({ code: 'IncompleteSignatureException' });
  });
});

describe('SigV4 against the AWS SDK signer', () => {
  // The SDK's own signer signs requests with awkward labels and queries; ours must verify every one.
  const alphabet = ['a', 'Z', '0', '_', '-', '.', '~', ' ', '/', '%', '+', '=', '&', '?', '#', 'é', 'ሴ', '😀', '*', "'", '(', ':', '$'];
  const pick = (seed: number, n: number) => Array.from({ length: n }, (_, i) => alphabet[(seed * 31 + i * 17) % alphabet.length]).join('');
  const encodeLabel = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

  it('verifies 200 SDK-signed requests and rejects each with one byte of the body changed', async () => {
    const signer = new SignatureV4({ credentials: KEY, region: 'eu-central-1', service: 'iotanalytics', sha256: Hash.bind(null, 'sha256') });
    for (let seed = 0; seed < 200; seed++) {
      const label = encodeLabel(pick(seed, 1 + (seed % 9)));
      const path = `/datasets/${label}/content`;
      const query: Record<string, string | string[]> = { versionId: pick(seed + 7, seed % 5), tagKeys: [pick(seed + 1, 3), pick(seed + 2, 2)] };
      const body = JSON.stringify({ value: pick(seed + 3, seed % 13) });
      const signed = await signer.sign(
        { method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', port: 8080, path, query, headers: { host: '127.0.0.1:8080', 'content-type': 'application/json' }, body },
        { signingDate: SUITE_TIME },
      );
      const rawQuery = Object.entries(query)
        .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeLabel(k)}=${encodeLabel(x)}`))
        .join('&');
      const request: WireRequest = {
        method: 'PUT',
        path,
        query: rawQuery,
        headers: Object.entries(signed.headers as Record<string, string>),
        body: Buffer.from(body),
      };
      const options = { ...verifyAt(SUITE_TIME), service: 'iotanalytics' };
      expect(verifyRequest(request, options), `${path}?${rawQuery}`).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
      expect(verifyRequest({ ...request, body: Buffer.from(`${body} `) }, options).ok).toBe(false);
    }
  });
});
