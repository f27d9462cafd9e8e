import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiSettings } from '../../../cloud/api/api-settings.ts';
import { createContentUrls } from '../../../cloud/api/content-urls.ts';
import { buildApp } from '../../../cloud/api/server.ts';
import { INCOMING_COLLECTIONS_DIR } from '../../../cloud/api/start-cloud.ts';
import { publishPath } from '../../../device/collection-exchange.ts';
import { craftTarGz, fileEntry, gnuTar } from '../../fixtures/collection-bundles.ts';
import { writeWav } from '../../fixtures/audio-files.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';
import { listing, publish, publishHeaders, schoolBundle, sha256Of } from './collection-exchange-fixture.ts';
import { silentLog, TEST_KEY } from './helpers.ts';

// What the exchange refuses, with the reason a box shows, and that a refusal stores nothing and leaves
// no temporary file: the listing holds only the version published first.

const root = mkdtempSync(join(tmpdir(), 'hedgerow-exchange-refusals-'));
let t: TestCloud;
let good: Awaited<ReturnType<typeof schoolBundle>>;
let before: unknown;
/** The real bundle.json, so a crafted bundle breaks only the rule its case is about. */
let goodInfo: Buffer;

beforeAll(async () => {
  t = await startTestCloud();
  good = await schoolBundle(root, 4);
  expect((await publish(t.cloud.endpoint, 'school', (await schoolBundle(root, 1)).bytes)).status).toBe(201);
  before = await listing(t.cloud.endpoint);
  const dir = mkdtempSync(join(root, 'info-'));
  gnuTar(['-xzf', good.file], dir);
  goodInfo = readFileSync(join(dir, 'school', 'bundle.json'));
});
afterAll(async () => {
  await t?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function expectNothingKept(): Promise<void> {
  expect(await listing(t.cloud.endpoint)).toEqual(before);
  expect(readdirSync(join(t.dir, INCOMING_COLLECTIONS_DIR))).toEqual([]);
}

/** The school bundle unpacked by /usr/bin/tar, changed by `change`, and packed again. */
function changedBundle(change: (school: string) => void): Buffer {
  const dir = mkdtempSync(join(root, 'changed-'));
  gnuTar(['-xzf', good.file], dir);
  change(join(dir, 'school'));
  gnuTar(['-czf', 'out.tar.gz', 'school'], dir);
  return readFileSync(join(dir, 'out.tar.gz'));
}

describe('the exchange refuses', () => {
  it('an unsigned PUT (403), before reading anything of the body', async () => {
    const answer = await publish(t.cloud.endpoint, 'school', good.bytes, { unsigned: true });
    expect([answer.status, answer.errorType]).toEqual([403, 'MissingAuthenticationTokenException']);
    const bare = await publish(t.cloud.endpoint, 'school', good.bytes, { unsigned: true, sha256: '' });
    expect([bare.status, bare.errorType]).toEqual([403, 'MissingAuthenticationTokenException']);
    await expectNothingKept();
  });

  it('a signed x-amz-content-sha256 that is not the body\'s, not lower-case hex, or UNSIGNED-PAYLOAD', async () => {
    const wrong = await publish(t.cloud.endpoint, 'school', good.bytes, { sha256: sha256Of(Buffer.from('other bytes')) });
    expect([wrong.status, wrong.errorType]).toEqual([403, 'InvalidSignatureException']);
    expect(wrong.body.message).toMatch(/The body's SHA-256 is [0-9a-f]{64}, not the signed x-amz-content-sha256/);
    for (const sha256 of ['UNSIGNED-PAYLOAD', sha256Of(good.bytes).toUpperCase()]) {
      const answer = await publish(t.cloud.endpoint, 'school', good.bytes, { sha256 });
      expect([answer.status, answer.errorType]).toEqual([400, 'InvalidRequestException']);
      expect(answer.body.message).toMatch(/A publish needs x-amz-content-sha256: the bundle's SHA-256 in lower-case hex, signed/);
    }
    await expectNothingKept();
  });

  const malicious: { name: string; bytes: () => Buffer; reason: RegExp }[] = [
    {
      name: 'a path that climbs out with ../',
      bytes: () => craftTarGz([fileEntry('school/bundle.json', goodInfo), fileEntry('school/../../evil.wav', 'x')]),
      reason: /^The bundle was refused, nothing was stored: "school\/\.\.\/\.\.\/evil\.wav" climbs out with "\.\."/,
    },
    {
      name: 'a checksum mismatch',
      bytes: () => changedBundle((school) => writeWav(join(school, 'ammonite.wav'), 301)),
      reason: /^The bundle was refused, nothing was stored: ammonite\.wav does not match its checksum: the bundle was damaged or changed on the way; export it again$/,
    },
    {
      name: 'a file that is no bundle',
      bytes: () => Buffer.from('hello'),
      reason: /^The bundle was refused, nothing was stored: it is not a gzip-compressed tar/,
    },
  ];
  it.each(malicious)('a malicious bundle: $name, with the importer\'s reason', async ({ bytes, reason }) => {
    const answer = await publish(t.cloud.endpoint, 'school', bytes());
    expect([answer.status, answer.errorType]).toEqual([400, 'InvalidRequestException']);
    expect(answer.body.message).toMatch(reason);
    // The engine's temporary path is not in the message.
    expect(answer.body.message).not.toContain(t.dir);
    await expectNothingKept();
  });

  it('a bundle sent to another name than its bundle.json\'s (400)', async () => {
    const answer = await publish(t.cloud.endpoint, 'museum', good.bytes);
    expect([answer.status, answer.errorType, answer.body.message]).toEqual([
      400, 'InvalidRequestException',
      'The bundle is the collection "school" (its bundle.json\'s name), but it was sent to museum: publish it to /collections/school.',
    ]);
    await expectNothingKept();
  });

  it('a bundle over the cap (413), on its content-length and, without one, while it streams', async () => {
    const app = await buildApp({
      engine: t.cloud.engine,
      settings: apiSettings.parse({ accessKeys: [TEST_KEY] }),
      accessKeys: [TEST_KEY],
      contentUrls: createContentUrls({ key: Buffer.alloc(32, 7), ttlSeconds: 60, now: Date.now }),
      log: silentLog,
      collections: { store: t.cloud.engine.store, keepVersions: 5, incomingDir: join(t.dir, INCOMING_COLLECTIONS_DIR), maxBundleBytes: 1024 },
    });
    try {
      const url = new URL(publishPath('school'), 'http://localhost:80');
      const headers = await publishHeaders(url, good.bytes);
      expect(good.bytes.length).toBeGreaterThan(1024);
      const declared = await app.inject({ method: 'PUT', url: url.pathname, headers, payload: good.bytes });
      expect([declared.statusCode, declared.headers['x-amzn-errortype']]).toEqual([413, 'PayloadTooLargeException']);
      expect(JSON.parse(declared.body).message).toBe('The bundle is larger than this engine takes (1 KiB): make the collection smaller (MP3 for long stories, or split it), then export and publish again.');
      // A stream has no content-length: the cap is checked as the bytes arrive.
      const streamed = await app.inject({ method: 'PUT', url: url.pathname, headers, payload: Readable.from([good.bytes.subarray(0, 800), good.bytes.subarray(800)]) });
      expect([streamed.statusCode, streamed.headers['x-amzn-errortype'], streamed.headers.connection]).toEqual([413, 'PayloadTooLargeException', 'close']);
      await expectNothingKept();
    } finally {
      await app.close();
    }
  });
});
