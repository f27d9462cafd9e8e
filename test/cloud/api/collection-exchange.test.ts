import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { collectionListing, publicBundlePath, publishAnswer } from '../../../device/collection-exchange.ts';
import { INCOMING_COLLECTIONS_DIR } from '../../../cloud/api/start-cloud.ts';
import { TEST_STORAGE, testStorage } from '../helpers/test-storage.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';
import { described, download, getJson, listing, publish, schoolBundle, sha256Of, unpublish } from './collection-exchange-fixture.ts';

// Issue 13, the engine's side of "send a museum": a box publishes a real exported bundle, signed by the
// AWS SDK's signer; another school lists it without credentials and downloads the same bytes.

const root = mkdtempSync(join(tmpdir(), 'hedgerow-exchange-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let clouds: TestCloud[] = [];
afterEach(async () => {
  for (const cloud of clouds.reverse()) await cloud.stop();
  clouds = [];
});
async function cloud(options: Parameters<typeof startTestCloud>[0] = {}): Promise<TestCloud> {
  const started = await startTestCloud(options);
  clouds.push(started);
  return started;
}

describe('the collection exchange', () => {
  it('publishes a bundle, lists it with its title, languages, objects and sizes, and serves the same bytes', async () => {
    const t = await cloud();
    const endpoint = t.cloud.endpoint;
    const v4 = await schoolBundle(root, 4);

    const first = await publish(endpoint, 'school', v4.bytes);
    expect(first.status).toBe(201);
    const answer = publishAnswer.parse(first.body);
    expect(answer).toMatchObject({
      created: true,
      collection: {
        name: 'school', title: 'School museum', version: 4, language: 'en', languages: ['en', 'fr'], objectCount: 2,
        totalBytes: v4.totalBytes, bundleBytes: v4.bytes.length, sha256: sha256Of(v4.bytes),
        bundleUrl: `${endpoint}${publicBundlePath('school', 4)}`,
      },
    });
    // Who published it stays in the store.
    expect(JSON.stringify(first.body)).not.toContain('AKID');

    const listed = collectionListing.parse((await getJson(endpoint, '/public/collections')).body);
    expect(listed.collections).toEqual([answer.collection]);
    expect((await described(endpoint, 'school')).body).toEqual(answer.collection);

    const got = await download(answer.collection.bundleUrl);
    expect(got.status).toBe(200);
    expect(sha256Of(got.bytes)).toBe(sha256Of(v4.bytes));
    expect(got.headers.get('content-type')).toBe('application/gzip');
    expect(got.headers.get('content-length')).toBe(String(v4.bytes.length));
    expect(got.headers.get('etag')).toBe(`"${sha256Of(v4.bytes)}"`);
    expect(got.headers.get('content-disposition')).toBe('attachment; filename="school-v4.tar.gz"');
    const again = await fetch(answer.collection.bundleUrl, { headers: { 'if-none-match': `"${sha256Of(v4.bytes)}"` } });
    expect(again.status).toBe(304);

    // The same bytes again change nothing.
    const same = await publish(endpoint, 'school', v4.bytes);
    expect([same.status, publishAnswer.parse(same.body).created, publishAnswer.parse(same.body).collection]).toEqual([200, false, answer.collection]);

    // Version 4 with other bytes (exported another day) is refused, saying what to do.
    const other = await schoolBundle(root, 4, { exportedAt: Date.UTC(2026, 11, 8) });
    const conflict = await publish(endpoint, 'school', other.bytes);
    expect([conflict.status, conflict.errorType]).toEqual([409, 'ConflictException']);
    expect(conflict.body.message).toMatch(/version 4 is already published with other bytes .*raise the manifest's version/);

    // Version 5 becomes the latest; a lower version than that is refused.
    const v5 = await schoolBundle(root, 5);
    expect((await publish(endpoint, 'school', v5.bytes)).status).toBe(201);
    expect((await listing(endpoint)).map((c) => [c.name, c.version, c.sha256])).toEqual([['school', 5, sha256Of(v5.bytes)]]);
    const v3 = await schoolBundle(root, 3);
    const older = await publish(endpoint, 'school', v3.bytes);
    expect([older.status, older.errorType]).toEqual([409, 'ConflictException']);
    expect(older.body.message).toMatch(/version 3 is older than the latest published \(the latest is version 5\): raise the manifest's version above 5/);
    // Version 4 stays downloadable, byte for byte.
    expect(sha256Of((await download(`${endpoint}${publicBundlePath('school', 4)}`)).bytes)).toBe(sha256Of(v4.bytes));
    expect(readdirSync(join(t.dir, INCOMING_COLLECTIONS_DIR))).toEqual([]);
  });

  it('gives a browser a page with one row per collection and the line to copy, everything escaped', async () => {
    const t = await cloud({ api: { publicUrl: 'https://museums.example.org/' } });
    const v4 = await schoolBundle(root, 4, { title: 'Owls & <script>alert("x")</script>' });
    expect((await publish(t.cloud.endpoint, 'school', v4.bytes)).status).toBe(201);
    const response = await fetch(`${t.cloud.endpoint}/public/collections`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).toContain('<strong>Owls &amp; &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</strong>');
    expect(html).not.toContain('<script');
    expect(html).toContain('<td>en, fr</td><td>2</td>');
    expect(html).toContain('<code>hedgerow box fetch https://museums.example.org/public/collections/school</code>');
    // The JSON listing's links take api.publicUrl too.
    expect((await listing(t.cloud.endpoint))[0]!.bundleUrl).toBe(`https://museums.example.org${publicBundlePath('school', 4)}`);
  });

  it('keeps the newest cloud.collections.keepVersions versions, and DELETE removes every one', async () => {
    const t = await cloud({ cloud: { collections: { keepVersions: 2 } } });
    const endpoint = t.cloud.endpoint;
    for (const version of [1, 2, 3]) expect((await publish(endpoint, 'school', (await schoolBundle(root, version)).bytes)).status).toBe(201);
    const gone = await download(`${endpoint}${publicBundlePath('school', 1)}`);
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.bytes.toString()).message).toBe('Collection school has no published version 1 (the engine keeps the newest 2); /public/collections/school gives the latest.');
    for (const version of [2, 3]) expect((await download(`${endpoint}${publicBundlePath('school', version)}`)).status).toBe(200);

    expect((await unpublish(endpoint, 'school')).status).toBe(204);
    expect(await listing(endpoint)).toEqual([]);
    const none = await unpublish(endpoint, 'school');
    expect([none.status, none.errorType, none.body.message]).toEqual([404, 'ResourceNotFoundException', 'No published collection is named school; the list at /public/collections shows the published ones.']);
    expect((await described(endpoint, 'school')).status).toBe(404);
    expect((await download(`${endpoint}${publicBundlePath('school', 3)}`)).status).toBe(404);
  });

  it('answers a bad name or version in a path with 400 and the reason', async () => {
    const t = await cloud();
    const badName = await getJson(t.cloud.endpoint, '/public/collections/.hidden');
    expect([badName.status, badName.errorType]).toEqual([400, 'InvalidRequestException']);
    expect(badName.body.message).toMatch(/"\.hidden" is not a collection name \(a collection name is one folder name: no "\/" or "\\", not starting with "\."\)/);
    const badVersion = await getJson(t.cloud.endpoint, '/public/collections/school/versions/1e3/bundle.tar.gz');
    expect([badVersion.status, badVersion.body.message]).toEqual([400, '"1e3" is not a collection version (a version is a whole number from 1, as in the manifest): use one the collection\'s description gives.']);
  });

  it('publishes through one engine and lists and downloads through another on the same database', async () => {
    const shared = mkdtempSync(join(root, 'shared-'));
    // PostgreSQL: two engines with their own folders on one database; SQLite: two engines on one folder.
    const storage = TEST_STORAGE === 'postgres' ? await testStorage(shared) : { dataDir: shared };
    const a = await cloud({ cloud: storage });
    const b = await cloud({ cloud: storage });
    const v4 = await schoolBundle(root, 4);
    expect((await publish(a.cloud.endpoint, 'school', v4.bytes)).status).toBe(201);
    const listed = await listing(b.cloud.endpoint);
    expect(listed.map((c) => [c.name, c.version, c.bundleBytes])).toEqual([['school', 4, v4.bytes.length]]);
    const got = await download(listed[0]!.bundleUrl as string);
    expect(got.status).toBe(200);
    expect(sha256Of(got.bytes)).toBe(sha256Of(v4.bytes));
    expect(listed[0]!.bundleUrl).toBe(`${b.cloud.endpoint}${publicBundlePath('school', 4)}`);
    // B refuses what A holds with other bytes: the version rules are the database's, not one engine's.
    expect((await publish(b.cloud.endpoint, 'school', (await schoolBundle(root, 4, { exportedAt: 1 })).bytes)).status).toBe(409);
  });
});
