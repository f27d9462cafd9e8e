import { z } from 'zod';
import { resourceArn, roleArn, tag, tagList } from './common.ts';

/** Tags and the account's logging options: requests and responses. */

export const tagResourceRequest = z.strictObject({ resourceArn, tags: tagList });
export const untagResourceRequest = z.strictObject({
  resourceArn,
  tagKeys: z.array(z.string().min(1).max(256)).min(1, 'give 1-50 tagKeys').max(50, 'give 1-50 tagKeys'),
});
export const listTagsForResourceRequest = z.strictObject({ resourceArn });
/** A resource without tags lists none. */
export const listTagsForResourceResponse = z.strictObject({ tags: z.array(tag).max(50).optional() });

export const loggingOptions = z.strictObject({ roleArn, level: z.enum(['ERROR']), enabled: z.boolean() });
export const describeLoggingOptionsRequest = z.strictObject({});
export const describeLoggingOptionsResponse = z.strictObject({ loggingOptions: loggingOptions.optional() });
export const putLoggingOptionsRequest = z.strictObject({ loggingOptions });

export const emptyResponse = z.strictObject({});
