import { createDatastoreRequest, describeDatastoreRequest, listDatastoresRequest, updateDatastoreRequest } from '../model/datastores.ts';
import type {
  CreateDatastoreRequest, CreateDatastoreResponse, DatastorePartitions, DatastoreSummary, DeleteDatastoreRequest,
  DescribeDatastoreRequest, DescribeDatastoreResponse, FileFormatConfiguration, ListDatastoresResponse, ListRequest,
  RetentionPeriod, UpdateDatastoreRequest,
} from './engine.ts';
import { arnOf, statisticsField, storageFields, type EngineContext } from './engine-context.ts';
import { ResourceAlreadyExistsException, ResourceNotFoundException } from './errors.ts';
import { checkResourceName } from './names.ts';
import { page } from './pagination.ts';
import { parseRequest } from './request-parse.ts';
import type { DatastoreIndexes, ResourceRecord } from '../storage/cloud-store.ts';

/** Datastores: the typed, queryable output of pipelines. */

export interface DatastoreDefinition {
  retentionPeriod: RetentionPeriod;
  fileFormatConfiguration: FileFormatConfiguration;
  datastorePartitions?: DatastorePartitions;
}

const UNLIMITED: RetentionPeriod = { unlimited: true };

// The request schemas are the API model's (cloud/model/datastores.ts): one definition for the wire and for direct calls.
const createSchema = createDatastoreRequest;
const updateSchema = updateDatastoreRequest;
const describeSchema = describeDatastoreRequest;
const listRequestSchema = listDatastoresRequest;

function partitionIndexes(partitions: DatastorePartitions | undefined): DatastoreIndexes {
  const list = partitions?.partitions ?? [];
  return {
    time: list.flatMap((p) => (p.timestampPartition ? [p.timestampPartition.attributeName] : [])),
    device: list.flatMap((p) => (p.attributePartition ? [p.attributePartition.attributeName] : [])),
  };
}

export class Datastores {
  constructor(private readonly ctx: EngineContext) {}

  arn(datastoreName: string): string {
    return arnOf(this.ctx.settings, 'datastore', datastoreName);
  }

  async get(datastoreName: string): Promise<ResourceRecord<DatastoreDefinition>> {
    const record = await this.ctx.store.getResource<DatastoreDefinition>('datastore', datastoreName);
    if (!record) throw new ResourceNotFoundException(`Datastore "${datastoreName}" does not exist; create it with CreateDatastore first.`);
    return record;
  }

  async names(): Promise<string[]> {
    return (await this.ctx.store.listResources('datastore')).map((r) => r.name);
  }

  async create(input: CreateDatastoreRequest): Promise<CreateDatastoreResponse> {
    const request = parseRequest(createSchema, input, 'CreateDatastore');
    const now = this.ctx.clock.now();
    const definition: DatastoreDefinition = {
      retentionPeriod: request.retentionPeriod ?? UNLIMITED,
      fileFormatConfiguration: request.fileFormatConfiguration ?? { jsonConfiguration: {} },
      ...(request.datastorePartitions ? { datastorePartitions: request.datastorePartitions } : {}),
    };
    const inserted = await this.ctx.store.insertResource({ type: 'datastore', name: request.datastoreName, definition, createdAt: now, updatedAt: now });
    if (!inserted) {
      throw new ResourceAlreadyExistsException(`Datastore "${request.datastoreName}" already exists (names are unique ignoring case).`, request.datastoreName, this.arn(request.datastoreName));
    }
    try {
      await this.ctx.store.createDatastoreStorage(request.datastoreName, partitionIndexes(definition.datastorePartitions));
    } catch (error) {
      // Nothing half made: the name stays free for the next attempt.
      await this.ctx.store.deleteResource('datastore', request.datastoreName);
      throw error;
    }
    if (request.tags) await this.ctx.store.setTags(this.arn(request.datastoreName), request.tags);
    return { datastoreName: request.datastoreName, datastoreArn: this.arn(request.datastoreName), retentionPeriod: definition.retentionPeriod };
  }

  async describe(input: DescribeDatastoreRequest): Promise<DescribeDatastoreResponse> {
    const request = parseRequest(describeSchema, input, 'DescribeDatastore');
    const record = await this.get(request.datastoreName);
    const stats = await this.ctx.store.datastoreStats(record.name, request.includeStatistics === true);
    return {
      datastore: {
        name: record.name,
        arn: this.arn(record.name),
        storage: { serviceManagedS3: {} },
        retentionPeriod: record.definition.retentionPeriod,
        ...storageFields(record, stats),
        fileFormatConfiguration: record.definition.fileFormatConfiguration,
        ...(record.definition.datastorePartitions ? { datastorePartitions: record.definition.datastorePartitions } : {}),
      },
      ...statisticsField(stats, request.includeStatistics, this.ctx.clock.now()),
    };
  }

  async update(input: UpdateDatastoreRequest): Promise<void> {
    const request = parseRequest(updateSchema, input, 'UpdateDatastore');
    const record = await this.get(request.datastoreName);
    const definition: DatastoreDefinition = {
      ...record.definition,
      retentionPeriod: request.retentionPeriod ?? UNLIMITED,
      ...(request.fileFormatConfiguration ? { fileFormatConfiguration: request.fileFormatConfiguration } : {}),
    };
    await this.ctx.store.updateResource('datastore', record.name, definition, this.ctx.clock.now());
  }

  async delete(input: DeleteDatastoreRequest): Promise<void> {
    const record = await this.get(checkResourceName('datastore', input?.datastoreName));
    await this.ctx.store.deleteResource('datastore', record.name);
    await this.ctx.store.dropDatastoreStorage(record.name);
    await this.ctx.store.deleteAllTags(this.arn(record.name));
  }

  async list(input: ListRequest): Promise<ListDatastoresResponse> {
    const request = parseRequest(listRequestSchema, input ?? {}, 'ListDatastores');
    const result = await page((after, limit) => this.ctx.store.listResources<DatastoreDefinition>('datastore', { after, limit }), (r) => r.name, request);
    const summaries: DatastoreSummary[] = [];
    for (const record of result.items) {
      const stats = await this.ctx.store.datastoreStats(record.name, false);
      summaries.push({
        datastoreName: record.name,
        datastoreStorage: { serviceManagedS3: {} },
        ...storageFields(record, stats),
        fileFormatType: record.definition.fileFormatConfiguration.parquetConfiguration ? 'PARQUET' : 'JSON',
        ...(record.definition.datastorePartitions ? { datastorePartitions: record.definition.datastorePartitions } : {}),
      });
    }
    return { datastoreSummaries: summaries, ...(result.nextToken ? { nextToken: result.nextToken } : {}) };
  }

  /** Pipeline output lands here. */
  async write(datastoreName: string, messages: Record<string, unknown>[], arrival: number): Promise<void> {
    const rows = new Array<{ record: Record<string, unknown>; arrival: number }>(messages.length);
    for (let i = 0; i < messages.length; i += 1) rows[i] = { record: messages[i]!, arrival };
    await this.ctx.store.insertDatastoreRows(datastoreName, rows);
  }
}
