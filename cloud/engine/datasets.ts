import { createDatasetRequest, listDatasetsRequest, updateDatasetRequest } from '../model/datasets.ts';
import type {
  CreateDatasetRequest, CreateDatasetResponse, DatasetAction, DatasetContentDeliveryRule, DatasetSummary, DatasetTrigger,
  DeleteDatasetRequest, DescribeDatasetRequest, DescribeDatasetResponse, LateDataRule, ListDatasetsResponse, ListRequest,
  RetentionPeriod, UpdateDatasetRequest, VersioningConfiguration,
} from './engine.ts';
import { arnOf, type EngineContext } from './engine-context.ts';
import { InvalidRequestException, ResourceAlreadyExistsException, ResourceNotFoundException } from './errors.ts';
import { checkResourceName } from './names.ts';
import { page } from './pagination.ts';
import { parseRequest } from './request-parse.ts';
import { parseSchedule } from './schedule-expression.ts';
import { translateDatasetSql, translateTimeExpression } from '../query/dataset-sql.ts';
import type { ResourceRecord } from '../storage/cloud-store.ts';

/** Datasets: a checked SQL query over datastores, its triggers, and how long its versions are kept. */

export interface DatasetDefinition {
  actions: DatasetAction[];
  triggers: DatasetTrigger[];
  retentionPeriod: RetentionPeriod;
  versioningConfiguration?: VersioningConfiguration;
  contentDeliveryRules: DatasetContentDeliveryRule[];
  lateDataRules: LateDataRule[];
}

/** IoT Analytics kept dataset versions 90 days unless told otherwise. */
export const DEFAULT_DATASET_RETENTION: RetentionPeriod = { unlimited: false, numberOfDays: 90 };
export { MAX_TRIGGERS, MAX_VERSIONS } from '../model/datasets.ts';

/** SQLite reasons that only mean "this datastore has no such attribute yet", which data arriving later fixes. */
const TOLERATED_AT_CREATE = /^no such column/;

// The request schemas are the API model's (cloud/model/datasets.ts): one definition for the wire and for direct calls.
const createSchema = createDatasetRequest;
const updateSchema = updateDatasetRequest;
const listRequestSchema = listDatasetsRequest;

type DatasetBody = UpdateDatasetRequest;

export class Datasets {
  /** Told when a dataset is created, changed or deleted, so schedules follow. */
  onChange: (datasetName: string) => void = () => undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly datastoreNames: () => Promise<string[]>,
  ) {}

  arn(datasetName: string): string {
    return arnOf(this.ctx.settings, 'dataset', datasetName);
  }

  async get(datasetName: string): Promise<ResourceRecord<DatasetDefinition>> {
    const record = await this.ctx.store.getResource<DatasetDefinition>('dataset', datasetName);
    if (!record) throw new ResourceNotFoundException(`Dataset "${datasetName}" does not exist; create it with CreateDataset first.`);
    return record;
  }

  async all(): Promise<ResourceRecord<DatasetDefinition>[]> {
    return this.ctx.store.listResources<DatasetDefinition>('dataset');
  }

  /** Why the dataset's SQL would not run against the datastores as they are now, if it would not. */
  private async queryProblem(query: NonNullable<DatasetBody['actions'][number]['queryAction']>): Promise<string | undefined> {
    const datastores = await this.datastoreNames();
    const deltaTime = query.filters?.[0]?.deltaTime;
    const dialect = this.ctx.store.sqlDialect;
    const timeExpression = deltaTime ? translateTimeExpression(deltaTime.timeExpression, dialect) : undefined;
    const translated = translateDatasetSql(query.sqlQuery, {
      datastores,
      dialect,
      ...(timeExpression ? { deltaTime: { timeExpression, start: 0, end: 1 } } : {}),
    });
    return this.ctx.store.checkQuery(translated);
  }

  /** True while the dataset's SQL names attributes its datastore has not seen yet (no data so far): a run now could only fail. */
  async awaitsData(definition: DatasetDefinition): Promise<boolean> {
    const problem = await this.queryProblem(definition.actions[0]!.queryAction!);
    return problem !== undefined && TOLERATED_AT_CREATE.test(problem);
  }

  /** Everything CreateDataset and UpdateDataset check beyond the shapes: SQL, filters, triggers. */
  private async check(body: DatasetBody, operation: string): Promise<DatasetDefinition> {
    const problem = await this.queryProblem(body.actions[0]!.queryAction!);
    if (problem && !TOLERATED_AT_CREATE.test(problem)) {
      throw new InvalidRequestException(`${operation}: the SQL does not run: ${problem}.`);
    }
    for (const trigger of body.triggers ?? []) {
      if (trigger.schedule) parseSchedule(trigger.schedule.expression);
      if (trigger.dataset) {
        if (trigger.dataset.name.toLowerCase() === body.datasetName.toLowerCase()) {
          throw new InvalidRequestException(`${operation}: a dataset cannot trigger itself.`);
        }
        if (!(await this.ctx.store.getResource('dataset', trigger.dataset.name))) {
          throw new InvalidRequestException(`${operation}: triggering dataset "${trigger.dataset.name}" does not exist.`);
        }
      }
    }
    return {
      actions: body.actions.map((a) => ({ actionName: a.actionName ?? 'query', queryAction: a.queryAction! })),
      triggers: (body.triggers ?? []) as DatasetTrigger[],
      retentionPeriod: body.retentionPeriod ?? DEFAULT_DATASET_RETENTION,
      ...(body.versioningConfiguration ? { versioningConfiguration: body.versioningConfiguration } : {}),
      contentDeliveryRules: (body.contentDeliveryRules ?? []) as DatasetContentDeliveryRule[],
      lateDataRules: (body.lateDataRules ?? []) as LateDataRule[],
    };
  }

  async create(input: CreateDatasetRequest): Promise<CreateDatasetResponse> {
    const request = parseRequest(createSchema, input, 'CreateDataset');
    const exists = () => new ResourceAlreadyExistsException(`Dataset "${request.datasetName}" already exists (names are unique ignoring case).`, request.datasetName, this.arn(request.datasetName));
    // Refused before its SQL is checked: a worker applying its resource file at start must not fail on a
    // dataset that exists because the datastores have changed since it was made.
    if (await this.ctx.store.getResource('dataset', request.datasetName)) throw exists();
    const definition = await this.check(request, 'CreateDataset');
    const now = this.ctx.clock.now();
    const inserted = await this.ctx.store.insertResource({ type: 'dataset', name: request.datasetName, definition, createdAt: now, updatedAt: now });
    if (!inserted) throw exists();
    if (request.tags) await this.ctx.store.setTags(this.arn(request.datasetName), request.tags);
    this.onChange(request.datasetName);
    return { datasetName: request.datasetName, datasetArn: this.arn(request.datasetName), retentionPeriod: definition.retentionPeriod };
  }

  async update(input: UpdateDatasetRequest): Promise<void> {
    const request = parseRequest(updateSchema, input, 'UpdateDataset');
    const record = await this.get(request.datasetName);
    const definition = await this.check({ ...request, datasetName: record.name }, 'UpdateDataset');
    await this.ctx.store.updateResource('dataset', record.name, definition, this.ctx.clock.now());
    this.onChange(record.name);
  }

  async delete(input: DeleteDatasetRequest, removeContents: (datasetName: string) => Promise<void>): Promise<void> {
    const record = await this.get(checkResourceName('dataset', input?.datasetName));
    await this.ctx.store.deleteResource('dataset', record.name);
    await removeContents(record.name);
    await this.ctx.store.deleteAllTags(this.arn(record.name));
    this.onChange(record.name);
  }

  async describe(input: DescribeDatasetRequest): Promise<DescribeDatasetResponse> {
    const record = await this.get(checkResourceName('dataset', input?.datasetName));
    const d = record.definition;
    return {
      dataset: {
        name: record.name,
        arn: this.arn(record.name),
        actions: d.actions,
        triggers: d.triggers,
        contentDeliveryRules: d.contentDeliveryRules,
        status: 'ACTIVE',
        creationTime: new Date(record.createdAt),
        lastUpdateTime: new Date(record.updatedAt),
        retentionPeriod: d.retentionPeriod,
        ...(d.versioningConfiguration ? { versioningConfiguration: d.versioningConfiguration } : {}),
        // LateDataRules holds 1 rule in the model: a dataset without one has none, not an empty list.
        ...(d.lateDataRules.length > 0 ? { lateDataRules: d.lateDataRules } : {}),
      },
    };
  }

  async list(input: ListRequest): Promise<ListDatasetsResponse> {
    const request = parseRequest(listRequestSchema, input ?? {}, 'ListDatasets');
    const result = await page((after, limit) => this.ctx.store.listResources<DatasetDefinition>('dataset', { after, limit }), (r) => r.name, request);
    const summaries: DatasetSummary[] = result.items.map((record) => ({
      datasetName: record.name,
      status: 'ACTIVE',
      creationTime: new Date(record.createdAt),
      lastUpdateTime: new Date(record.updatedAt),
      triggers: record.definition.triggers,
      actions: record.definition.actions.map((a) => ({ actionName: a.actionName, actionType: 'QUERY' as const })),
    }));
    return { datasetSummaries: summaries, ...(result.nextToken ? { nextToken: result.nextToken } : {}) };
  }
}
