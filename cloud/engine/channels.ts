import {
  batchPutMessageRequest, createChannelRequest, describeChannelRequest, listChannelsRequest, MAX_SAMPLE_MESSAGES, sampleChannelDataRequest,
  updateChannelRequest,
} from '../model/channels.ts';
import type {
  BatchPutMessageErrorEntry, BatchPutMessageRequest, BatchPutMessageResponse, ChannelSummary, CreateChannelRequest,
  CreateChannelResponse, DeleteChannelRequest, DescribeChannelRequest, DescribeChannelResponse, ListChannelsResponse,
  ListRequest, RetentionPeriod, SampleChannelDataRequest, SampleChannelDataResponse, UpdateChannelRequest,
} from './engine.ts';
import { arnOf, statisticsField, storageFields, type EngineContext } from './engine-context.ts';
import { InvalidRequestException, ResourceAlreadyExistsException, ResourceNotFoundException } from './errors.ts';
import { messageOfPayload } from './binary-messages.ts';
import { checkResourceName } from './names.ts';
import { page } from './pagination.ts';
import { parseRequest } from './request-parse.ts';
import { MAX_PAYLOAD_BYTES } from '../settings.ts';

/** Channels: raw messages kept as sent, duplicates dropped by messageId, then handed to pipelines. */

export { MAX_BATCH_MESSAGES, MAX_SAMPLE_MESSAGES } from '../model/channels.ts';
const UNLIMITED: RetentionPeriod = { unlimited: true };

export interface ChannelDefinition {
  retentionPeriod: RetentionPeriod;
}

/** Where accepted messages go next (the pipelines); parsed once, here. */
export interface MessageSink {
  ingest(channelName: string, messages: Record<string, unknown>[], arrival: number): Promise<void>;
}

// The request schemas are the API model's (cloud/model/channels.ts): one definition for the wire and for direct calls.
const createSchema = createChannelRequest;
const updateSchema = updateChannelRequest;
const describeSchema = describeChannelRequest;
const batchSchema = batchPutMessageRequest;
const sampleSchema = sampleChannelDataRequest;
const listRequestSchema = listChannelsRequest;

export class Channels {
  constructor(
    private readonly ctx: EngineContext,
    private readonly sink: MessageSink,
  ) {}

  arn(channelName: string): string {
    return arnOf(this.ctx.settings, 'channel', channelName);
  }

  async get(channelName: string) {
    const record = await this.ctx.store.getResource<ChannelDefinition>('channel', channelName);
    if (!record) throw new ResourceNotFoundException(`Channel "${channelName}" does not exist; create it with CreateChannel first.`);
    return record;
  }

  async create(input: CreateChannelRequest): Promise<CreateChannelResponse> {
    const request = parseRequest(createSchema, input, 'CreateChannel');
    const now = this.ctx.clock.now();
    const definition: ChannelDefinition = { retentionPeriod: request.retentionPeriod ?? UNLIMITED };
    const inserted = await this.ctx.store.insertResource({ type: 'channel', name: request.channelName, definition, createdAt: now, updatedAt: now });
    if (!inserted) {
      throw new ResourceAlreadyExistsException(`Channel "${request.channelName}" already exists (names are unique ignoring case).`, request.channelName, this.arn(request.channelName));
    }
    await this.ctx.store.createChannelStorage(request.channelName);
    if (request.tags) await this.ctx.store.setTags(this.arn(request.channelName), request.tags);
    return { channelName: request.channelName, channelArn: this.arn(request.channelName), retentionPeriod: definition.retentionPeriod };
  }

  async describe(input: DescribeChannelRequest): Promise<DescribeChannelResponse> {
    const request = parseRequest(describeSchema, input, 'DescribeChannel');
    const record = await this.get(request.channelName);
    const stats = await this.ctx.store.channelStats(record.name, request.includeStatistics === true);
    return {
      channel: {
        name: record.name,
        arn: this.arn(record.name),
        storage: { serviceManagedS3: {} },
        retentionPeriod: record.definition.retentionPeriod,
        ...storageFields(record, stats),
      },
      ...statisticsField(stats, request.includeStatistics, this.ctx.clock.now()),
    };
  }

  async update(input: UpdateChannelRequest): Promise<void> {
    const request = parseRequest(updateSchema, input, 'UpdateChannel');
    const record = await this.get(request.channelName);
    const definition: ChannelDefinition = { ...record.definition, retentionPeriod: request.retentionPeriod ?? UNLIMITED };
    await this.ctx.store.updateResource('channel', record.name, definition, this.ctx.clock.now());
  }

  async delete(input: DeleteChannelRequest): Promise<void> {
    const channelName = checkResourceName('channel', input?.channelName);
    const record = await this.get(channelName);
    await this.ctx.store.deleteResource('channel', record.name);
    await this.ctx.store.dropChannelStorage(record.name);
    await this.ctx.store.deleteAllTags(this.arn(record.name));
  }

  async list(input: ListRequest): Promise<ListChannelsResponse> {
    const request = parseRequest(listRequestSchema, input ?? {}, 'ListChannels');
    const result = await page((after, limit) => this.ctx.store.listResources<ChannelDefinition>('channel', { after, limit }), (r) => r.name, request);
    const summaries: ChannelSummary[] = [];
    for (const record of result.items) {
      const stats = await this.ctx.store.channelStats(record.name, false);
      summaries.push({
        channelName: record.name,
        channelStorage: { serviceManagedS3: {} },
        ...storageFields(record, stats),
      });
    }
    return { channelSummaries: summaries, ...(result.nextToken ? { nextToken: result.nextToken } : {}) };
  }

  async batchPut(input: BatchPutMessageRequest): Promise<BatchPutMessageResponse> {
    // The model's `messages` schema already refuses a messageId given twice in one batch.
    const request = parseRequest(batchSchema, input, 'BatchPutMessage');
    const record = await this.get(request.channelName);
    const errors: BatchPutMessageErrorEntry[] = [];
    const valid: { messageId: string; payload: Uint8Array; value: Record<string, unknown> }[] = [];
    for (const message of request.messages) {
      const parsed = messageOfPayload(message.payload, MAX_PAYLOAD_BYTES);
      if ('problem' in parsed) {
        errors.push({ messageId: message.messageId, errorCode: 'InvalidRequestException', errorMessage: parsed.problem });
      } else {
        valid.push({ messageId: message.messageId, payload: message.payload, value: parsed.value });
      }
    }
    await this.store(record.name, valid);
    this.ctx.metrics.batchPut(valid.length, errors.length);
    return { batchPutMessageErrorEntries: errors };
  }

  /**
   * Stores already-parsed messages and passes the new ones on. Used by BatchPutMessage and by the topic
   * rules; returns how many were new (the rest were duplicates of stored messageIds).
   */
  async store(channelName: string, messages: readonly { messageId: string; payload: Uint8Array | string; value: Record<string, unknown> }[]): Promise<number> {
    if (messages.length === 0) return 0;
    const arrival = this.ctx.clock.now();
    const accepted = await this.ctx.store.appendChannelMessages(channelName, messages, arrival);
    const fresh: Record<string, unknown>[] = [];
    for (let i = 0; i < messages.length; i += 1) if (accepted[i]) fresh.push(messages[i]!.value);
    this.ctx.metrics.stored(channelName, fresh.length, messages.length);
    if (fresh.length > 0) await this.sink.ingest(channelName, fresh, arrival);
    return fresh.length;
  }

  async sample(input: SampleChannelDataRequest): Promise<SampleChannelDataResponse> {
    const request = parseRequest(sampleSchema, input, 'SampleChannelData');
    const record = await this.get(request.channelName);
    const start = request.startTime?.getTime();
    const end = request.endTime?.getTime();
    if (start !== undefined && end !== undefined && start >= end) {
      throw new InvalidRequestException('SampleChannelData: startTime must be before endTime.');
    }
    const payloads = await this.ctx.store.sampleChannelMessages(record.name, { start, end, limit: request.maxMessages ?? MAX_SAMPLE_MESSAGES });
    return { payloads };
  }
}
