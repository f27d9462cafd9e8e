import { z } from 'zod';
import { IOT_CORE } from '../../hardware/core/contract.ts';
import {
  type CustomerManagedS3,
  dataTimes,
  arn, blob, channelName, empty, listRequest, modelFacts, modelPattern, nextToken, refused, resourceStatus, retentionPeriod, statistics,
  tagList, timestamp,
} from './common.ts';

/** Channels, BatchPutMessage and SampleChannelData: requests (path, query and body members together) and responses. */

/** BatchPutMessage takes at most this many messages (design.md §6). */
export const MAX_BATCH_MESSAGES = 100;
export const MAX_SAMPLE_MESSAGES = 10;
/**
 * IoT Analytics' per-message payload limit, checked on the wire before the engine sees the batch. It is
 * IoT Core's payload limit, since IoT Core rules fed channels, so it comes from the wire contract.
 */
export const MAX_MESSAGE_PAYLOAD_BYTES = IOT_CORE.maxPayloadBytes;

/** Channel data lives in the engine's own files, so customer-managed S3 is refused with the reason. */
export const channelStorage = z.strictObject({
  serviceManagedS3: empty.optional(),
  customerManagedS3: refused<CustomerManagedS3>('customerManagedS3 is not available here; the engine keeps channel data in its own files (use serviceManagedS3)'),
});
/** What the engine returns as a channel's storage: only service-managed storage exists here. */
const channelStorageOut = z.strictObject({ serviceManagedS3: empty.optional() });

/** ASCII only: the model's MessageId pattern \p{ASCII}* (matched whole). */
export const messageId = z
  .string({ error: 'messageId must be a string' })
  .min(1, 'messageId must not be empty')
  .max(128, 'messageId must be at most 128 characters')
  .regex(modelPattern('\\p{ASCII}*'), 'messageId must be ASCII');

export const message = z.strictObject({
  messageId,
  payload: blob.refine((b) => b.length <= MAX_MESSAGE_PAYLOAD_BYTES, `a message payload may be at most ${MAX_MESSAGE_PAYLOAD_BYTES / 1024} KB`)
    .register(modelFacts, { type: 'blob' }),
});

export const messages = z
  .array(message)
  .min(1, 'send at least one message')
  .max(MAX_BATCH_MESSAGES, `BatchPutMessage takes at most ${MAX_BATCH_MESSAGES} messages; split the batch`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [index, m] of list.entries()) {
      if (seen.has(m.messageId)) {
        ctx.addIssue({ code: 'custom', path: [index, 'messageId'], message: `messageId "${m.messageId}" appears twice; ids must be unique within a batch` });
      }
      seen.add(m.messageId);
    }
  });

export const createChannelRequest = z.strictObject({
  channelName,
  channelStorage: channelStorage.optional(),
  retentionPeriod: retentionPeriod.optional(),
  tags: tagList.optional(),
});
export const createChannelResponse = z.strictObject({ channelName: channelName.optional(), channelArn: arn.optional(), retentionPeriod: retentionPeriod.optional() });

export const describeChannelRequest = z.strictObject({ channelName, includeStatistics: z.boolean().optional() });
export const channel = z.strictObject({
  name: channelName.optional(),
  storage: channelStorageOut.optional(),
  arn: arn.optional(),
  status: resourceStatus.optional(),
  retentionPeriod: retentionPeriod.optional(),
  ...dataTimes,
});
export const describeChannelResponse = z.strictObject({ channel: channel.optional(), statistics: statistics.optional() });

export const updateChannelRequest = z.strictObject({ channelName, channelStorage: channelStorage.optional(), retentionPeriod: retentionPeriod.optional() });
export const deleteChannelRequest = z.strictObject({ channelName });

export const listChannelsRequest = listRequest;
export const channelSummary = z.strictObject({
  channelName: channelName.optional(),
  channelStorage: channelStorageOut.optional(),
  status: resourceStatus.optional(),
  ...dataTimes,
});
export const listChannelsResponse = z.strictObject({ channelSummaries: z.array(channelSummary).optional(), nextToken: nextToken.optional() });

export const batchPutMessageRequest = z.strictObject({ channelName, messages });
export const batchPutMessageErrorEntry = z.strictObject({ messageId: messageId.optional(), errorCode: z.string().optional(), errorMessage: z.string().optional() });
export const batchPutMessageResponse = z.strictObject({ batchPutMessageErrorEntries: z.array(batchPutMessageErrorEntry).optional() });

export const maxMessages = z.number().int().min(1, `must be 1-${MAX_SAMPLE_MESSAGES}`).max(MAX_SAMPLE_MESSAGES, `must be 1-${MAX_SAMPLE_MESSAGES}`);
export const sampleChannelDataRequest = z.strictObject({
  channelName,
  maxMessages: maxMessages.optional(),
  startTime: timestamp.optional(),
  endTime: timestamp.optional(),
});
/** An empty channel (or time range) samples to no payloads. */
export const sampleChannelDataResponse = z.strictObject({ payloads: z.array(blob).max(MAX_SAMPLE_MESSAGES).optional() });
