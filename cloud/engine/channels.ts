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
import type { DatastoreRowIn } from '../storage/cloud-store.ts';

/** Channels: raw messages kept as sent, duplicates dropped by messageId, then handed to pipelines. */

export { MAX_BATCH_MESSAGES, MAX_SAMPLE_MESSAGES } from '../model/channels.ts';
const UNLIMITED: RetentionPeriod = { unlimited: true };

export interface ChannelDefinition {
  retentionPeriod: RetentionPeriod;
}

/** What the pipelines make of new messages: datastore rows, committed together with the messages. */
export interface MessageSink {
  rowsFor(channelName: string, messages: Record<string, unknown>[], arrival: number): Promise<{ datastore: string; rows: DatastoreRowIn[] }[]>;
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
   * Stores already-parsed messages with the datastore rows their pipelines make, in one commit. Used by
   * BatchPutMessage and by the topic rules; returns how many were new (the rest were duplicates of
   * stored messageIds). The database's unique key decides what is a duplicate, so it holds across
   * workers: when another worker committed some meanwhile ('conflict'), the remainder is re-checked and
   * retried. Each retry has fewer messages, so the loop ends.
   */
  async store(channelName: string, messages: readonly { messageId: string; payload: Uint8Array | string; value: Record<string, unknown> }[]): Promise<number> {
    if (messages.length === 0) return 0;
    const arrival = this.ctx.clock.now();
    // A messageId twice in one call (a rule batch can carry a retried envelope) keeps its first copy.
    const seen = new Set<string>();
    const unique = messages.filter((m) => !seen.has(m.messageId) && Boolean(seen.add(m.messageId)));
    let stored = 0;
    for (;;) {
      const existing = await this.ctx.store.existingMessageIds(channelName, unique.map((m) => m.messageId));
      const fresh = unique.filter((m) => !existing.has(m.messageId));
      if (fresh.length === 0) break;
      // Activities change values in place: every attempt works on its own copy of the values as parsed.
      const rows = await this.sink.rowsFor(channelName, fresh.map((m) => structuredClone(m.value)), arrival);
      if ((await this.ctx.store.commitIngest(channelName, fresh, arrival, rows)) === 'committed') {
        stored = fresh.length;
        break;
      }
    }
    this.ctx.metrics.stored(channelName, stored, messages.length);
    return stored;
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
