import { listTagsForResourceRequest, putLoggingOptionsRequest, tagResourceRequest, untagResourceRequest } from '../model/account.ts';
import type {
  DescribeLoggingOptionsResponse, ListTagsForResourceRequest, ListTagsForResourceResponse, LoggingOptions, PutLoggingOptionsRequest,
  TagResourceRequest, UntagResourceRequest,
} from './engine.ts';
import { parseArn, type EngineContext } from './engine-context.ts';
import { LimitExceededException, ResourceNotFoundException } from './errors.ts';
import { parseRequest } from './request-parse.ts';

/** Tags on channels, pipelines, datastores, datasets and rules, by ARN; and the logging options. */

export const MAX_TAGS = 50;
const LOGGING_KEY = 'loggingOptions';

// The request schemas are the API model's (cloud/model/account.ts): one definition for the wire and for direct calls.
const tagSchema = tagResourceRequest;
const untagSchema = untagResourceRequest;
const listSchema = listTagsForResourceRequest;
const loggingSchema = putLoggingOptionsRequest;

export class Tags {
  constructor(private readonly ctx: EngineContext) {}

  private async existing(arn: string): Promise<string> {
    const { type, name } = parseArn(arn);
    const record = await this.ctx.store.getResource(type, name);
    if (!record || arn !== arn.replace(/[^/]+$/, record.name)) {
      throw new ResourceNotFoundException(`No ${type} has the ARN ${arn}; check the name and that it still exists.`);
    }
    return arn;
  }

  async tag(input: TagResourceRequest): Promise<void> {
    const request = parseRequest(tagSchema, input, 'TagResource');
    const arn = await this.existing(request.resourceArn);
    const keys = new Set((await this.ctx.store.getTags(arn)).map((t) => t.key));
    for (const tag of request.tags) keys.add(tag.key);
    if (keys.size > MAX_TAGS) throw new LimitExceededException(`A resource carries at most ${MAX_TAGS} tags; remove some with UntagResource first.`);
    await this.ctx.store.setTags(arn, request.tags);
  }

  async untag(input: UntagResourceRequest): Promise<void> {
    const request = parseRequest(untagSchema, input, 'UntagResource');
    await this.ctx.store.removeTags(await this.existing(request.resourceArn), request.tagKeys);
  }

  async list(input: ListTagsForResourceRequest): Promise<ListTagsForResourceResponse> {
    const request = parseRequest(listSchema, input, 'ListTagsForResource');
    return { tags: await this.ctx.store.getTags(await this.existing(request.resourceArn)) };
  }

  async describeLogging(): Promise<DescribeLoggingOptionsResponse> {
    const options = await this.ctx.store.getSetting<LoggingOptions>(LOGGING_KEY);
    return options ? { loggingOptions: options } : {};
  }

  async putLogging(input: PutLoggingOptionsRequest): Promise<void> {
    const request = parseRequest(loggingSchema, input, 'PutLoggingOptions');
    await this.ctx.store.putSetting(LOGGING_KEY, request.loggingOptions);
  }
}
