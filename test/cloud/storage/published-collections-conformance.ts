import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { CloudStore, ContentBody } from '../../../cloud/storage/cloud-store.ts';
import { CONTENT_CHUNK_BYTES } from '../../../cloud/storage/content-chunks.ts';
import type { PublishedCollectionRecord } from '../../../cloud/storage/published-collection-record.ts';

/** The published-collection cases of the CloudStore conformance suite (cloud-store-conformance.ts runs them on each backend). */
export function publishedCollectionConformance(current: () => { store: CloudStore; dir: string }): void {
  let files = 0;
  /** A bundle file of these bytes, and the record of `name` version `version` that describes it. */
  const bundle = (name: string, version: number, bytes: Buffer): { record: PublishedCollectionRecord; file: string } => {
    const file = join(current().dir, `bundle-${files++}.tar.gz`);
    writeFileSync(file, bytes);
    const record: PublishedCollectionRecord = {
      name, version, title: `${name} museum`, language: 'en', languages: ['en', 'fr'], objectCount: 2, totalBytes: bytes.length * 2,
      bundleBytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), publishedAt: Date.UTC(2026, 11, 7) + version, publishedBy: 'AKIDSCHOOL',
    };
    return { record, file };
  };
  const read = async (body: ContentBody | undefined) => {
    const parts: Buffer[] = [];
    for await (const chunk of body!.chunks()) parts.push(chunk);
    return Buffer.concat(parts);
  };
  const keep = { keepVersions: 3 };

  it('keeps a published collection per version with its bundle in chunks; the same bytes again change nothing, other bytes or an older version are refused', async () => {
    const { store } = current();
    // 1.5 chunks of bytes that are not text, so nothing on the way may decode them.
    const bytes = randomBytes(CONTENT_CHUNK_BYTES + CONTENT_CHUNK_BYTES / 2);
    const v1 = bundle('school', 1, bytes);
    expect(await store.putPublishedCollection(v1.record, v1.file, keep)).toEqual({ kind: 'created', collection: v1.record });
    expect(await store.publishedCollection('school')).toEqual(v1.record);
    expect(await store.publishedCollection('school', 1)).toEqual(v1.record);
    const body = await store.openPublishedBundle('school', 1);
    expect(body?.sizeBytes).toBe(bytes.length);
    expect((await read(body)).equals(bytes)).toBe(true);

    const again = bundle('school', 1, bytes);
    expect(await store.putPublishedCollection({ ...again.record, publishedAt: 9 }, again.file, keep)).toEqual({ kind: 'unchanged', collection: v1.record });
    const other = bundle('school', 1, randomBytes(100));
    expect(await store.putPublishedCollection(other.record, other.file, keep)).toEqual({ kind: 'conflict', reason: 'same-version', version: 1, latest: v1.record });
    expect((await read(await store.openPublishedBundle('school', 1))).equals(bytes)).toBe(true);

    const v3 = bundle('school', 3, Buffer.from('version three'));
    expect((await store.putPublishedCollection(v3.record, v3.file, keep)).kind).toBe('created');
    const v2 = bundle('school', 2, Buffer.from('version two'));
    expect(await store.putPublishedCollection(v2.record, v2.file, keep)).toEqual({ kind: 'conflict', reason: 'older', version: 2, latest: v3.record });
    expect((await store.listPublishedVersions('school')).map((r) => r.version)).toEqual([3, 1]);
    expect(await store.publishedCollection('school', 2)).toBeUndefined();
    expect(await store.openPublishedBundle('school', 2)).toBeUndefined();
    expect(await store.publishedCollection('nobody')).toBeUndefined();
  });

  it('lists the latest version of each collection by name, keeps the newest versions per name, and deletes every version of one', async () => {
    const { store } = current();
    for (const version of [1, 2, 3, 4, 5]) {
      const v = bundle('owls', version, Buffer.from(`owls ${version}`));
      await store.putPublishedCollection(v.record, v.file, keep);
    }
    const bees = bundle('Bees', 7, Buffer.from('bees'));
    await store.putPublishedCollection(bees.record, bees.file, keep);
    const ants = bundle('ants', 1, Buffer.from('a'));
    await store.putPublishedCollection(ants.record, ants.file, keep);

    expect((await store.listPublishedCollections()).map((r) => [r.name, r.version])).toEqual([['Bees', 7], ['ants', 1], ['owls', 5]]);
    expect(await store.listPublishedCollections()).toContainEqual(bees.record);
    // Versions past the newest three went with their bundles, in the transaction that added 4 and 5.
    expect((await store.listPublishedVersions('owls')).map((r) => r.version)).toEqual([5, 4, 3]);
    expect(await store.openPublishedBundle('owls', 2)).toBeUndefined();
    expect((await read(await store.openPublishedBundle('owls', 3))).toString()).toBe('owls 3');
    expect((await store.openPublishedBundle('ants', 1))?.sizeBytes).toBe(1);

    // Deleted between opening and reading: the download fails, it never ends short.
    const opened = await store.openPublishedBundle('owls', 5);
    expect(await store.deletePublishedCollection('owls')).toBe(3);
    expect(await store.deletePublishedCollection('owls')).toBe(0);
    await expect(read(opened)).rejects.toThrow(/collection "owls" version 5 was deleted while it was being read/);
    expect(await store.listPublishedVersions('owls')).toEqual([]);
    expect(await store.openPublishedBundle('owls', 4)).toBeUndefined();
    expect((await store.listPublishedCollections()).map((r) => r.name)).toEqual(['Bees', 'ants']);
    // A name that went may start again from version 1.
    const fresh = bundle('owls', 1, Buffer.from('again'));
    expect((await store.putPublishedCollection(fresh.record, fresh.file, keep)).kind).toBe('created');
  });
}
