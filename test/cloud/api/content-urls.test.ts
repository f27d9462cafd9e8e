import { afterEach, describe, expect, it } from 'vitest';
import { contentKeyFrom, createContentUrls } from '../../../cloud/api/content-urls.ts';
import type { ContentRef, Engine } from '../../../cloud/engine/engine.ts';
import { ResourceNotFoundException } from '../../../cloud/engine/errors.ts';
import { errorOf, recordingEngine, signedInject, testApp, type TestApp } from './helpers.ts';

const CSV = 'station,day,min_temp\nnorth,2026-05-01,3.5\n';

const REF: ContentRef = { datasetName: 'weather_daily', versionId: '0b6d1f3c-2c1e-4c55-9d39-4e0f6c1d2a77', entryName: 'weather_daily.csv' };
const DATASET_ARN = 'arn:aws:iotanalytics:eu-west-1:000000000000:dataset/weather_daily';

let current: TestApp | undefined;
afterEach(async () => {
  await current?.app.close();
  current = undefined;
});

async function setup(tags: Array<{ key: string; value: string }> = []) {
  const answers: Partial<Record<keyof Engine, (input: never) => unknown>> = {
    getDatasetContent: () => ({ entries: [{ entryName: REF.entryName, dataURI: current!.contentUrls.build(REF) }], status: { state: 'SUCCEEDED' } }),
    openDatasetContent: (ref: ContentRef) => {
      if (ref.versionId !== REF.versionId) throw new ResourceNotFoundException('No such version.');
      // In two chunks, as the store streams a body.
      const chunks = async function* () {
        yield Buffer.from(CSV.slice(0, 10));
        yield Buffer.from(CSV.slice(10));
      };
      return { chunks, sizeBytes: Buffer.byteLength(CSV), contentType: 'text/csv; charset=utf-8', fileName: 'weather_daily.csv' };
    },
    describeDataset: (input: { datasetName: string }) => {
      if (input.datasetName !== 'weather_daily' && input.datasetName !== 'private_notes') throw new ResourceNotFoundException('No such dataset.');
      return { dataset: { name: input.datasetName, arn: `arn:aws:iotanalytics:eu-west-1:000000000000:dataset/${input.datasetName}` } };
    },
    listTagsForResource: (input: { resourceArn: string }) => ({ tags: input.resourceArn === DATASET_ARN ? tags : [] }),
    listDatasets: () => ({ datasetSummaries: [{ datasetName: 'weather_daily', lastUpdateTime: new Date(1_700_000_000_000) }, { datasetName: 'private_notes' }] }),
    // Newest first: a run that failed after the one the download serves.
    listDatasetContents: () => ({
      datasetContentSummaries: [
        { version: 'v3', status: { state: 'FAILED' }, creationTime: new Date(1_700_000_900_000), completionTime: new Date(1_700_000_901_000) },
        { version: REF.versionId, status: { state: 'SUCCEEDED' }, creationTime: new Date(1_700_000_480_000), completionTime: new Date(1_700_000_500_000) },
      ],
    }),
  };
  const recorder = recordingEngine(answers);
  current = await testApp(recorder.engine);
  return current;
}

async function dataUri(app: TestApp): Promise<string> {
  const response = await signedInject(app.app, app.clock.now, { method: 'GET', url: '/datasets/weather_daily/content?versionId=%24LATEST_SUCCEEDED' });
  expect(response.statusCode).toBe(200);
  return (JSON.parse(response.body) as { entries: Array<{ dataURI: string }> }).entries[0]!.dataURI;
}

describe('dataset content links', () => {
  it('gives an absolute presigned link that downloads the CSV without credentials', async () => {
    const app = await setup();
    const uri = await dataUri(app);
    expect(uri).toMatch(/^http:\/\/localhost(:80)?\/dataset-content\/weather_daily\/0b6d1f3c-[^/]+\/weather_daily\.csv\?expires=\d+&signature=[0-9a-f]{64}$/);
    const download = await app.app.inject({ method: 'GET', url: uri.slice(uri.indexOf('/dataset-content')) });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(download.body).toBe(CSV);
  });

  it('refuses a changed link and an expired one with 403', async () => {
    const app = await setup();
    const path = (await dataUri(app)).replace(/^http:\/\/[^/]+/, '');
    const otherVersion = path.replace('0b6d1f3c', '0b6d1f3d');
    expect(errorOf(await app.app.inject({ method: 'GET', url: otherVersion }))).toMatchObject({ type: 'AccessDeniedException', status: 403 });
    const longer = path.replace(/expires=(\d+)/, (_m, e: string) => `expires=${Number(e) + 3600}`);
    expect(errorOf(await app.app.inject({ method: 'GET', url: longer })).message).toMatch(/link was changed/);
    expect(errorOf(await app.app.inject({ method: 'GET', url: path.replace(/&signature=.*$/, '') })).status).toBe(403);

    app.clock.now += 3600_000 - 1000;
    expect((await app.app.inject({ method: 'GET', url: path })).statusCode).toBe(200);
    app.clock.now += 2000;
    expect(errorOf(await app.app.inject({ method: 'GET', url: path }))).toMatchObject({ type: 'AccessDeniedException', message: expect.stringMatching(/^Request has expired/) });
  });

  it('uses the configured public URL and link lifetime', async () => {
    const urls = createContentUrls({ key: contentKeyFrom(['secret-one']), ttlSeconds: 60, now: () => 1_000_000 });
    const link = urls.build(REF);
    expect(link).toContain('expires=1060&');
    const same = createContentUrls({ key: contentKeyFrom(['secret-one']), ttlSeconds: 60, now: () => 1_000_000 });
    const rotated = createContentUrls({ key: contentKeyFrom(['secret-two']), ttlSeconds: 60, now: () => 1_000_000 });
    const query = { expires: '1060', signature: /signature=([0-9a-f]+)/.exec(link)![1]! };
    expect(same.verify(REF, query).ok).toBe(true);
    expect(rotated.verify(REF, query).ok).toBe(false);
  });
});

describe('public datasets', () => {
  it('lists and serves only datasets tagged public=true, without credentials', async () => {
    const app = await setup([{ key: 'public', value: 'true' }]);
    const list = await app.app.inject({ method: 'GET', url: '/public/datasets' });
    // "updated" is when the served content was made, not when the dataset was created (issue 10).
    expect(JSON.parse(list.body)).toEqual({ datasets: [{ datasetName: 'weather_daily', lastUpdateTime: 1_700_000_500, csv: '/public/datasets/weather_daily/latest.csv' }] });
    const csv = await app.app.inject({ method: 'GET', url: '/public/datasets/weather_daily/latest.csv' });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toBe(CSV);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="weather_daily.csv"');
  });

  it('answers a private or missing dataset the same way, and opens nothing else', async () => {
    const app = await setup([{ key: 'public', value: 'false' }]);
    const privateOne = errorOf(await app.app.inject({ method: 'GET', url: '/public/datasets/private_notes/latest.csv' }));
    const missing = errorOf(await app.app.inject({ method: 'GET', url: '/public/datasets/nothing_here/latest.csv' }));
    expect(privateOne.type).toBe('ResourceNotFoundException');
    expect(missing.type).toBe('ResourceNotFoundException');
    expect(privateOne.message.replace('private_notes', 'X')).toBe(missing.message.replace('nothing_here', 'X'));
    expect(JSON.parse((await app.app.inject({ method: 'GET', url: '/public/datasets' })).body)).toEqual({ datasets: [] });
    expect(errorOf(await app.app.inject({ method: 'GET', url: '/datasets/weather_daily/content' })).type).toBe('MissingAuthenticationTokenException');
  });
});
