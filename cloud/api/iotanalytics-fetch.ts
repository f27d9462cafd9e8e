import { signedFetch, type SignedFetchOptions } from './signed-fetch.ts';

/**
 * The few IoT Analytics calls `hedgerow cloud apply` makes, as the AWS SDK sends them (service-2.json's
 * paths, methods and JSON bodies; signing name iotanalytics), over the engine's own SigV4 signer. The
 * SDK is a devDependency: an installed engine (`npm ci --omit=dev`) does not have it.
 */

export const IOTANALYTICS_SIGNING_NAME = 'iotanalytics';

export type Wire = Record<string, unknown>;
export type Tag = { key: string; value: string };

const name = encodeURIComponent;

export class IotAnalyticsFetch {
  private readonly options: SignedFetchOptions;

  constructor(options: Omit<SignedFetchOptions, 'service'>) {
    this.options = { ...options, service: IOTANALYTICS_SIGNING_NAME };
  }

  private call(method: string, path: string, body?: unknown): Promise<Wire> {
    return signedFetch(this.options, method, path, body) as Promise<Wire>;
  }

  /** DescribeChannel, DescribeDatastore, DescribePipeline, DescribeDataset: the resource's description. */
  async describe(kind: 'channel' | 'datastore' | 'pipeline' | 'dataset', resourceName: string): Promise<Wire | undefined> {
    return (await this.call('GET', `/${kind}s/${name(resourceName)}`))[kind] as Wire | undefined;
  }

  /** CreateChannel, CreateDatastore, CreatePipeline, CreateDataset: the body is the whole request. */
  create(kind: 'channel' | 'datastore' | 'pipeline' | 'dataset', body: Wire): Promise<Wire> {
    return this.call('POST', `/${kind}s`, body);
  }

  /** UpdateChannel, UpdateDatastore, UpdatePipeline, UpdateDataset: the name goes in the path, not the body. */
  update(kind: 'channel' | 'datastore' | 'pipeline' | 'dataset', resourceName: string, body: Wire): Promise<Wire> {
    return this.call('PUT', `/${kind}s/${name(resourceName)}`, body);
  }

  async listTags(resourceArn: string): Promise<Tag[]> {
    return ((await this.call('GET', `/tags?resourceArn=${name(resourceArn)}`)).tags as Tag[] | undefined) ?? [];
  }

  async tag(resourceArn: string, tags: Tag[]): Promise<void> {
    await this.call('POST', `/tags?resourceArn=${name(resourceArn)}`, { tags });
  }
}
