import { z } from 'zod';
import type {
  DescribeLoggingOptionsResponse, ListTagsForResourceRequest, ListTagsForResourceResponse, LoggingOptions, PutLoggingOptionsRequest,
  TagResourceRequest, UntagResourceRequest,
} from './engine.ts';
import { parseArn, type EngineContext } from './engine-context.ts';
import { LimitExceededException, ResourceNotFoundException } from './errors.ts';
import { parseRequest, tagsSchema } from './request-parse.ts';

/** Tags on channels, pipelines, datastores, datasets and rules, by ARN; and the logging options. */

export const MAX_TAGS = 50;
const LOGGING_KEY = 'loggingOptions';

const tagSchema = z.object({ resourceArn: z.string().min(20).max(2048), tags: tagsSchema });
const untagSchema = z.object({ resourceArn: z.string().min(20).max(2048), tagKeys: z.array(z.string().min(1).max(256)).min(1).max(MAX_TAGS) });
const listSchema = z.object({ resourceArn: z.string().min(20).max(2048) });
const loggingSchema = z.object({
  loggingOptions: z.object({ roleArn: z.string().min(1).max(2048), level: z.literal('ERROR'), enabled: z.boolean() }),
});

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
