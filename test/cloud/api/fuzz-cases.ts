/**
 * Generated bad inputs for the REST API fuzz test. Deterministic (a seeded PRNG), so a failure names a
 * case that can be replayed. Each case is a request plus what must come back: an error (4xx with an
 * AWS error type and a reason) or, for BatchPutMessage payload problems, a 200 whose error entries name
 * every bad message.
 */

export type Category =
  | 'broken-json'
  | 'wrong-type'
  | 'huge-body'
  | 'huge-message'
  | 'invalid-name'
  | 'invalid-attribute'
  | 'too-many-messages'
  | 'duplicate-ids'
  | 'binary-payload'
  | 'deep-nesting'
  | 'sql-injection'
  | 'expression-escape'
  | 'bad-query'
  | 'bad-signature';

export interface FuzzCase {
  category: Category;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  body?: string | Buffer;
  /** Message ids the engine must refuse in batchPutMessageErrorEntries (then the status is 200). */
  badMessageIds?: string[];
  /** Mangle the signature after signing (bad-signature cases). */
  mangle?: (headers: Record<string, string>) => Record<string, string>;
}

export interface FuzzNames {
  /** Where the valid messages go, through `pipeline` into `datastore`. */
  channel: string;
  datastore: string;
  pipeline: string;
  dataset: string;
  /** A second channel and datastore for pipelines a fuzz case may create, so they never see the valid data. */
  sinkChannel: string;
  sinkDatastore: string;
}

/** mulberry32: tiny, fast, good enough to spread cases. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');

export const BAD_NAMES = [
  '__hidden', 'a-b', 'a b', 'ä', '😀', 'x'.repeat(129), 'a.b', "a'b", 'a;DROP TABLE channels', 'a\u0000b', 'a"b', 'a\\b',
  '$LATEST', 'a+b', 'tab\tname', 'new\nline', '<script>', '%00', '*', 'a,b',
];
export const BAD_ATTRIBUTES = ['1abc', 'a-b', '__x', 'a b', 'é', '', 'x'.repeat(300), 'a.b', '$x', '9x', 'a__'];
const SQL_ATTACKS = [
  'SELECT * FROM {ds}; DROP TABLE {ds}',
  'SELECT * FROM {ds} -- ; DELETE FROM {ds}',
  'SELECT * FROM {ds} /* */; ATTACH DATABASE \'/tmp/x.db\' AS x',
  'ATTACH DATABASE \'/etc/passwd\' AS p',
  'PRAGMA table_info({ds})',
  'SELECT * FROM sqlite_master',
  'SELECT * FROM sqlite_schema',
  'SELECT load_extension(\'/tmp/evil\')',
  'INSERT INTO {ds} VALUES (1)',
  'DELETE FROM {ds}',
  'UPDATE {ds} SET a = 1',
  'WITH x AS (SELECT 1) SELECT * FROM x',
  'SELECT * FROM {ds} UNION SELECT name, sql FROM sqlite_master',
  'SELECT * FROM {ds} WHERE 1=1; PRAGMA writable_schema=1',
  'SELECT * FROM nonexistent_store',
  'CREATE TABLE t (a)',
  'SELECT * FROM {ds}\u0000; DROP TABLE {ds}',
  'VACUUM INTO \'/tmp/copy.db\'',
  'SELECT readfile(\'/etc/passwd\')',
  'SELECT * FROM main.{ds}',
  'SELECT * FROM {ds} WHERE a = ?',
  '',
  'SELECT',
  'SELECT * FROM (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((({ds})))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))',
];
const EXPRESSION_ATTACKS = [
  "constructor.constructor('return process')()",
  '__proto__.polluted = 1',
  'process.exit(1)',
  "require('fs')",
  'this',
  'globalThis',
  '`${process.env}`',
  'a; b',
  'a = 1',
  '(() => 1)()',
  'eval("1")',
  'Function("return 1")()',
  'a[0]',
  'a.b.c(',
  '1 +',
  '))((',
  'import("fs")',
  'new Date()',
  'a ? b : c',
  'x'.repeat(300),
  '\u0000',
  'sqrt(',
  'unknown_function(1)',
  '1 + + + ',
  "'unterminated",
];

interface BodyTemplate {
  method: 'POST' | 'PUT';
  url: string;
  body: Record<string, unknown>;
}

function templates(n: FuzzNames): BodyTemplate[] {
  const activities = [
    { channel: { name: 'in', channelName: n.channel, next: 'm' } },
    { math: { name: 'm', attribute: 't2', math: 't * 2', next: 'out' } },
    { datastore: { name: 'out', datastoreName: n.datastore } },
  ];
  const datasetBody = {
    actions: [{ actionName: 'q', queryAction: { sqlQuery: `SELECT * FROM ${n.datastore}` } }],
    triggers: [{ schedule: { expression: 'rate(1 hour)' } }],
    versioningConfiguration: { maxVersions: 3 },
  };
  const arn = encodeURIComponent(`arn:aws:iotanalytics:eu-west-1:000000000000:channel/${n.channel}`);
  return [
    { method: 'POST', url: '/channels', body: { channelName: 'fz_new_channel', retentionPeriod: { numberOfDays: 3 }, tags: [{ key: 'k', value: 'v' }] } },
    { method: 'PUT', url: `/channels/${n.channel}`, body: { retentionPeriod: { numberOfDays: 5 } } },
    { method: 'POST', url: '/datastores', body: { datastoreName: 'fz_new_store', retentionPeriod: { unlimited: true } } },
    { method: 'PUT', url: `/datastores/${n.datastore}`, body: { retentionPeriod: { numberOfDays: 9 } } },
    { method: 'POST', url: '/pipelines', body: { pipelineName: 'fz_new_pipeline', pipelineActivities: activities } },
    { method: 'PUT', url: `/pipelines/${n.pipeline}`, body: { pipelineActivities: activities } },
    { method: 'POST', url: '/pipelineactivities/run', body: { pipelineActivity: activities[1], payloads: [b64({ t: 2 })] } },
    { method: 'POST', url: `/pipelines/${n.pipeline}/reprocessing`, body: { startTime: 1_700_000_000, endTime: 1_700_000_100 } },
    { method: 'POST', url: '/datasets', body: { datasetName: 'fz_new_dataset', ...datasetBody } },
    { method: 'PUT', url: `/datasets/${n.dataset}`, body: datasetBody },
    { method: 'POST', url: `/datasets/${n.dataset}/content`, body: { versionId: '$LATEST' } },
    { method: 'POST', url: `/tags?resourceArn=${arn}`, body: { tags: [{ key: 'a', value: 'b' }] } },
    { method: 'PUT', url: '/logging', body: { loggingOptions: { roleArn: 'arn:aws:iam::000000000000:role/logging', level: 'ERROR', enabled: true } } },
    { method: 'POST', url: '/messages/batch', body: { channelName: n.channel, messages: [{ messageId: 'fz', payload: b64({ t: 1 }) }] } },
  ];
}

/** Every path to a value inside a JSON value. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setAt(root: unknown, path: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

const SAMPLES: unknown[] = [null, 42, -1.5, true, false, 'text', '', [], [1, 'x'], {}, { nested: { deeper: [null] } }];

export function generateCases(count: number, seed: number, names: FuzzNames): FuzzCase[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const int = (max: number) => Math.floor(random() * max);
  const bodies = templates(names);
  const cases: FuzzCase[] = [];

  const generators: Record<Category, () => FuzzCase | undefined> = {
    'broken-json': () => {
      const t = pick(bodies);
      const text = JSON.stringify(t.body);
      const mutations = [
        () => text.slice(0, 1 + int(text.length - 1)),
        () => `${text.slice(0, int(text.length))}${pick(['{', '}', '[', ']', ',', ':', '"', "'", '\\', '\u0001'])}${text.slice(int(text.length))}`,
        () => text.replace(/"/g, "'"),
        () => text.replace('}', ',}'),
        () => `${text}${text}`,
        () => text.replace(/\d+/, 'NaN'),
        () => `\ufeff${text.slice(1)}`,
        () => text.replace(':', ''),
      ];
      const body = pick(mutations)();
      try {
        JSON.parse(body);
        return undefined;
      } catch {
        return { category: 'broken-json', method: t.method, url: t.url, body };
      }
    },
    'wrong-type': () => {
      const t = pick(bodies);
      const path = pick(paths(t.body));
      let current: unknown = t.body;
      for (const key of path) current = (current as Record<string | number, unknown>)[key];
      const candidates = SAMPLES.filter((s) => typeOf(s) !== typeOf(current));
      return { category: 'wrong-type', method: t.method, url: t.url, body: JSON.stringify(setAt(t.body, path, pick(candidates))) };
    },
    'huge-body': () => ({ category: 'huge-body', method: 'POST', url: '/channels', body: JSON.stringify({ channelName: 'x'.repeat(300 * 1024 + int(1000)) }) }),
    'huge-message': () => {
      const payload = b64({ blob: 'y'.repeat(128 * 1024 + int(1000)) });
      return { category: 'huge-message', method: 'POST', url: '/messages/batch', body: JSON.stringify({ channelName: names.channel, messages: [{ messageId: 'big', payload }] }) };
    },
    'invalid-name': () => {
      const bad = pick(BAD_NAMES);
      const where = int(6);
      if (where === 0) return { category: 'invalid-name', method: 'POST', url: '/channels', body: JSON.stringify({ channelName: bad }) };
      if (where === 1) return { category: 'invalid-name', method: 'POST', url: '/datastores', body: JSON.stringify({ datastoreName: bad }) };
      if (where === 2) {
        const acts = [{ channel: { name: 'in', channelName: bad, next: 'out' } }, { datastore: { name: 'out', datastoreName: names.datastore } }];
        return { category: 'invalid-name', method: 'POST', url: '/pipelines', body: JSON.stringify({ pipelineName: 'fz_p', pipelineActivities: acts }) };
      }
      if (where === 3) return { category: 'invalid-name', method: 'POST', url: '/messages/batch', body: JSON.stringify({ channelName: bad, messages: [{ messageId: '1', payload: b64({ a: 1 }) }] }) };
      const kind = pick(['channels', 'datastores', 'pipelines', 'datasets']);
      return { category: 'invalid-name', method: pick(['GET', 'DELETE'] as const), url: `/${kind}/${encodeURIComponent(bad)}` };
    },
    'invalid-attribute': () => {
      const bad = pick(BAD_ATTRIBUTES);
      if (random() < 0.5) {
        const messages = [
          { messageId: 'bad', payload: b64({ [bad]: 1 }) },
          { messageId: 'dup', payload: b64({ Temp: 1, temp: 2 }) },
        ];
        return { category: 'invalid-attribute', method: 'POST', url: '/messages/batch', body: JSON.stringify({ channelName: names.channel, messages }), badMessageIds: ['bad', 'dup'] };
      }
      const activity = pick([
        { addAttributes: { name: 'a', attributes: { t: bad || '' } } },
        { math: { name: 'a', attribute: bad, math: 't + 1' } },
        { selectAttributes: { name: 'a', attributes: [bad] } },
        { removeAttributes: { name: 'a', attributes: [bad] } },
      ]);
      return { category: 'invalid-attribute', method: 'POST', url: '/pipelineactivities/run', body: JSON.stringify({ pipelineActivity: activity, payloads: [b64({ t: 1 })] }) };
    },
    'too-many-messages': () => {
      const n = 101 + int(200);
      const messages = Array.from({ length: n }, (_, i) => ({ messageId: `m${i}`, payload: b64({ i }) }));
      return { category: 'too-many-messages', method: 'POST', url: '/messages/batch', body: JSON.stringify({ channelName: names.channel, messages }) };
    },
    'duplicate-ids': () => {
      const messages = Array.from({ length: 2 + int(20) }, (_, i) => ({ messageId: `m${i}`, payload: b64({ i }) }));
      messages.push({ ...messages[int(messages.length)]! });
      return { category: 'duplicate-ids', method: 'POST', url: '/messages/batch', body: JSON.stringify({ channelName: names.channel, messages }) };
    },
    'binary-payload': () => {
      const bytes = Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)));
      const candidates = [bytes, Buffer.from('[1,2,3]'), Buffer.from('"just a string"'), Buffer.from('42'), Buffer.from('null'), Buffer.from('{"a":')];
      const payload = pick(candidates).toString('base64');
      try {
        const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return undefined;
      } catch {
        // not JSON at all: exactly what this category wants
      }
      return { category: 'binary-payload', method: 'POST', url: '/messages/batch', body: JSON.stringify({ channelName: names.channel, messages: [{ messageId: 'bin', payload }] }) };
    },
    'deep-nesting': () => {
      const depth = 40 + int(20_000);
      if (random() < 0.5) {
        return { category: 'deep-nesting', method: 'POST', url: '/channels', body: `${'['.repeat(depth)}${']'.repeat(depth)}` };
      }
      const payload = Buffer.from(`{"a":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`).toString('base64');
      return { category: 'deep-nesting', method: 'POST', url: '/messages/batch', body: JSON.stringify({ channelName: names.channel, messages: [{ messageId: 'deep', payload }] }), badMessageIds: ['deep'] };
    },
    'sql-injection': () => {
      const sqlQuery = pick(SQL_ATTACKS).replaceAll('{ds}', names.datastore);
      return { category: 'sql-injection', method: 'POST', url: '/datasets', body: JSON.stringify({ datasetName: `fz_sql_${int(1e6)}`, actions: [{ actionName: 'q', queryAction: { sqlQuery } }] }) };
    },
    'expression-escape': () => {
      const expression = pick(EXPRESSION_ATTACKS);
      const activity = random() < 0.5 ? { filter: { name: 'f', filter: expression } } : { math: { name: 'm', attribute: 'out', math: expression } };
      if (random() < 0.5) return { category: 'expression-escape', method: 'POST', url: '/pipelineactivities/run', body: JSON.stringify({ pipelineActivity: activity, payloads: [b64({ t: 1 })] }) };
      const [kind, spec] = Object.entries(activity)[0]!;
      const acts = [
        { channel: { name: 'in', channelName: names.sinkChannel, next: spec.name } },
        { [kind]: { ...spec, next: 'out' } },
        { datastore: { name: 'out', datastoreName: names.sinkDatastore } },
      ];
      return { category: 'expression-escape', method: 'POST', url: '/pipelines', body: JSON.stringify({ pipelineName: `fz_expr_${int(1e6)}`, pipelineActivities: acts }) };
    },
    'bad-query': () =>
      pick<FuzzCase>([
        { category: 'bad-query', method: 'GET', url: `/channels?maxResults=${pick(['0', '251', 'abc', '-1', '1.5', '99999999999'])}` },
        { category: 'bad-query', method: 'GET', url: `/channels/${names.channel}?includeStatistics=${pick(['yes', '1', 'TRUE', ''])}` },
        { category: 'bad-query', method: 'GET', url: `/channels/${names.channel}/sample?startTime=${pick(['yesterday', '2024-13-45T99:00:00Z', 'NaN', '1e5'])}` },
        { category: 'bad-query', method: 'GET', url: `/channels/${names.channel}/sample?maxMessages=${pick(['11', '0', 'ten'])}` },
        { category: 'bad-query', method: 'GET', url: `/datasets/${names.dataset}/content?versionId=${pick(['x', 'y'.repeat(40)])}` },
        { category: 'bad-query', method: 'GET', url: '/tags' },
        { category: 'bad-query', method: 'GET', url: `/tags?resourceArn=${pick(['short', 'arn:aws:iotanalytics:eu-west-1:000000000000:bogus/x', 'arn:aws:s3:::bucket-name-here'])}` },
        { category: 'bad-query', method: 'DELETE', url: `/tags?resourceArn=${encodeURIComponent(`arn:aws:iotanalytics:eu-west-1:000000000000:channel/${names.channel}`)}` },
        { category: 'bad-query', method: 'GET', url: `/channels?nextToken=${pick(['garbage', '%00', 'x'.repeat(50)])}` },
        { category: 'bad-query', method: pick(['GET', 'DELETE'] as const), url: `/${pick(['channels', 'pipelines', 'datasets'])}/${pick(['%zz', '%E0%A4%A', 'a%2Fb', '..%2F..', '%', 'y'.repeat(2000)])}` },
      ]),
    'bad-signature': () => {
      const mangles: Array<(h: Record<string, string>) => Record<string, string>> = [
        (h) => ({ ...h, authorization: h.authorization!.replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`) }),
        (h) => ({ ...h, authorization: h.authorization!.replace('Credential=', 'Credential=X') }),
        (h) => ({ ...h, authorization: h.authorization!.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=x-amz-date') }),
        (h) => ({ ...h, authorization: h.authorization!.replace(/, Signature=.*/, '') }),
        (h) => ({ ...h, authorization: 'AWS4-HMAC-SHA256' }),
        (h) => ({ ...h, authorization: `Bearer ${'x'.repeat(int(100))}` }),
        (h) => ({ ...h, 'x-amz-date': '20200101T000000Z' }),
        (h) => ({ ...h, 'x-amz-date': 'not-a-date' }),
        (h) => {
          const { authorization: _a, ...rest } = h;
          return rest;
        },
        (h) => ({ ...h, 'x-amz-security-token': 'token' }),
        (h) => ({ ...h, authorization: h.authorization!.replace('/iotanalytics/', '/s3/') }),
      ];
      return { category: 'bad-signature', method: 'GET', url: '/channels', mangle: pick(mangles) };
    },
  };

  const weights: Array<[Category, number]> = [
    ['broken-json', 18], ['wrong-type', 22], ['huge-body', 0.4], ['huge-message', 0.4], ['invalid-name', 12], ['invalid-attribute', 8],
    ['too-many-messages', 2], ['duplicate-ids', 5], ['binary-payload', 5], ['deep-nesting', 3], ['sql-injection', 6], ['expression-escape', 6],
    ['bad-query', 7], ['bad-signature', 5],
  ];
  const total = weights.reduce((s, [, w]) => s + w, 0);
  // Every category at least once, then by weight.
  for (const [category] of weights) {
    let made: FuzzCase | undefined;
    while (!made) made = generators[category]();
    cases.push(made);
  }
  while (cases.length < count) {
    let r = random() * total;
    const category = weights.find(([, w]) => (r -= w) < 0)?.[0] ?? 'wrong-type';
    const made = generators[category]();
    if (made) cases.push(made);
  }
  return cases;
}
