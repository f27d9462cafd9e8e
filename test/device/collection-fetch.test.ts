import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchCollection } from '../../device/collection-fetch.ts';
import { collectionSource, SOURCE_FILE, unfollowCollection } from '../../device/collection-source.ts';
import { exportCollection } from '../../device/museum-bundle-export.ts';
import { sha256, treeHash, writeSchoolCollection } from '../fixtures/collection-bundles.ts';
import { startBundleServer, type BundleServer } from '../fixtures/bundle-server.ts';

const root = mkdtempSync(join(tmpdir(), 'hedgerow-fetch-'));
const bundle = join(root, 'school.tar.gz');
let server: BundleServer;
const INSTALLED_AT = Date.UTC(2026, 11, 7, 10);

beforeAll(async () => {
  writeSchoolCollection(join(root, 'source', 'school'));
  await exportCollection({ collection: join(root, 'source', 'school'), file: bundle });
  server = await startBundleServer();
  server.publish('/public/collections/school', '/public/collections/school/versions/4/bundle.tar.gz', bundle);
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
const box = () => join(root, `box-${n++}`, 'collections');

describe('hedgerow box fetch', () => {
  it('installs from the collection URL, checked against its sha256; --follow leaves the source file, which unfollow removes', async () => {
    const collections = box();
    const url = `${server.url}/public/collections/school`;
    const result = await fetchCollection({ url, collectionsDir: collections, as: 'from-leeds', follow: true, now: () => INSTALLED_AT });
    expect(result.dir).toBe(join(collections, 'from-leeds'));
    expect(result.sha256).toBe(sha256(bundle));
    expect(readdirSync(collections)).toEqual(['from-leeds']);
    const source = collectionSource.parse(JSON.parse(readFileSync(join(result.dir, SOURCE_FILE), 'utf8')));
    expect(source).toEqual({ url, version: 4, sha256: sha256(bundle), installedAt: new Date(INSTALLED_AT).toISOString() });
    expect(await unfollowCollection(collections, 'from-leeds')).toMatch(/no longer followed/);
    expect(readdirSync(result.dir)).not.toContain(SOURCE_FILE);
    await expect(unfollowCollection(collections, 'nope')).rejects.toThrow(/no collection "nope" .*there are: from-leeds/);
  });

  it('takes a bundle URL directly, but not for --follow', async () => {
    const collections = box();
    const bundleUrl = `${server.url}/public/collections/school/versions/4/bundle.tar.gz`;
    await expect(fetchCollection({ url: bundleUrl, collectionsDir: collections, follow: true })).rejects.toThrow(/--follow needs the collection's URL/);
    const result = await fetchCollection({ url: bundleUrl, collectionsDir: collections });
    expect(result.published).toBeNull();
    expect(readdirSync(result.dir)).not.toContain(SOURCE_FILE);
  });

  it('refuses a bundle whose bytes do not match the published sha256, leaving nothing behind', async () => {
    const collections = box();
    server.publish('/public/collections/tampered', '/tampered.tar.gz', bundle, { sha256: 'ab'.repeat(32) });
    await expect(fetchCollection({ url: `${server.url}/public/collections/tampered`, collectionsDir: collections })).rejects.toThrow(
      /does not match the published SHA-256 .*try again/,
    );
    expect(() => statSync(collections)).toThrow(/ENOENT/);
  });

  it('caps the download on content-length and on the bytes that arrive, leaving an existing folder as it was', async () => {
    const collections = box();
    await fetchCollection({ url: `${server.url}/public/collections/school`, collectionsDir: collections });
    const before = treeHash(collections);
    const cap = statSync(bundle).size - 1;
    const url = `${server.url}/public/collections/school`;
    await expect(fetchCollection({ url, collectionsDir: collections, as: 'again', maxBytes: cap })).rejects.toThrow(/KiB, more than a box downloads \(\d+ KiB\)/);
    const bytes = readFileSync(bundle);
    server.answers.set('/chunked.tar.gz', { headers: { 'content-type': 'application/gzip' }, chunks: [bytes.subarray(0, 1000), bytes.subarray(1000)] });
    await expect(fetchCollection({ url: `${server.url}/chunked.tar.gz`, collectionsDir: collections, as: 'again', maxBytes: cap })).rejects.toThrow(/sent more than a box downloads/);
    expect(treeHash(collections)).toBe(before);
  });

  it('says what to do when the URL is wrong, the engine down, or the URL the listing', async () => {
    const collections = box();
    await expect(fetchCollection({ url: `${server.url}/public/collections/nothing`, collectionsDir: collections })).rejects.toThrow(/answered 404 ResourceNotFoundException: .*check the URL/);
    const closed = await startBundleServer();
    await closed.close();
    await expect(fetchCollection({ url: `${closed.url}/public/collections/school`, collectionsDir: collections })).rejects.toThrow(/cannot reach .*ECONNREFUSED.*that the engine runs/);
    server.answers.set('/public/collections', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ collections: [] }) });
    await expect(fetchCollection({ url: `${server.url}/public/collections`, collectionsDir: collections })).rejects.toThrow(/is the list of published collections, and it is empty/);
    expect(() => statSync(collections)).toThrow(/ENOENT/);
  });
});
