import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetDefinition, Datasets } from './datasets.ts';
import type {
  ContentRef, CreateDatasetContentRequest, CreateDatasetContentResponse, DatasetContentFile, DatasetContentSummary,
  DeleteDatasetContentRequest, GetDatasetContentRequest, GetDatasetContentResponse, ListDatasetContentsRequest,
  ListDatasetContentsResponse,
} from './engine.ts';
import { createDatasetContentRequest, getDatasetContentRequest, listDatasetContentsRequest } from '../model/datasets.ts';
import { retentionCutoff, type EngineContext } from './engine-context.ts';
import { InvalidRequestException, ResourceNotFoundException } from './errors.ts';
import { IncrementalRefresh } from './incremental-refresh.ts';
import { decodeToken, encodeToken, DEFAULT_PAGE_SIZE } from './pagination.ts';
import { parseRequest } from './request-parse.ts';
import { translateDatasetSql, translateTimeExpression } from '../query/dataset-sql.ts';
import type { ContentRecord } from '../storage/cloud-store.ts';

/**
 * Dataset content: each run is a version, CREATING until its query finishes, then SUCCEEDED with a
 * CSV or FAILED with the reason. The query writes the CSV to a scratch file under dataDir, which then
 * becomes the version's body in the store, in the transaction that marks it SUCCEEDED: any engine on
 * the same database serves it, and deleting a version deletes its body. deltaTime datasets read only
 * the window from where the last successful run's window ended up to the scheduled time plus
 * offsetSeconds (see window()). Versions beyond versioningConfiguration are removed.
 */

const LATEST = '$LATEST';
const LATEST_SUCCEEDED = '$LATEST_SUCCEEDED';
const CONTENT_TYPE = 'text/csv; charset=utf-8';

// The request schemas are the API model's (cloud/model/datasets.ts); DeleteDatasetContent has Get's shape.
const createSchema = createDatasetContentRequest;
const getSchema = getDatasetContentRequest;
const listSchema = listDatasetContentsRequest;

export class DatasetContents {
  private readonly running = new Set<Promise<void>>();
  /** The last deltaTime run started per dataset (lower-case name). */
  private readonly deltaRuns = new Map<string, Promise<void>>();
  private readonly incremental: IncrementalRefresh;
  /** Told after a version SUCCEEDED, so datasets triggered by this one can run. */
  onSucceeded: (datasetName: string, scheduleTime: number) => void = () => undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly datasets: Datasets,
    private readonly datastoreNames: () => Promise<string[]>,
  ) {
    this.incremental = new IncrementalRefresh(ctx);
  }

  /** Scratch folder for query output; files are named by version id, so engines sharing a dataDir never collide, and none outlives its run. */
  private scratch(): string {
    return join(this.ctx.settings.dataDir, 'query-out');
  }

  static entryName(dataset: string): string {
    return `${dataset}.csv`;
  }

  /** Resolves when every content run started so far has finished (tests and shutdown wait on it). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  async create(input: CreateDatasetContentRequest): Promise<CreateDatasetContentResponse> {
    const request = parseRequest(createSchema, input, 'CreateDatasetContent');
    const record = await this.datasets.get(request.datasetName);
    let previous: ContentRecord | undefined;
    if (request.versionId !== undefined) {
      if (!record.definition.actions[0]?.queryAction?.filters?.[0]?.deltaTime) {
        throw new InvalidRequestException('CreateDatasetContent: versionId can only be given for a dataset with a deltaTime filter.');
      }
      previous = await this.ctx.store.getContent(record.name, request.versionId);
      if (!previous) throw new ResourceNotFoundException(`Dataset "${record.name}" has no version "${request.versionId}".`);
    }
    const versionId = await this.start(record.name, record.definition, this.ctx.clock.now(), previous);
    return { versionId };
  }

  /** Records a CREATING version and runs its query in the background; returns the version id. */
  async start(dataset: string, definition: DatasetDefinition, scheduleTime: number, redo?: ContentRecord): Promise<string> {
    const content: ContentRecord = {
      datasetName: dataset,
      versionId: redo?.versionId ?? this.ctx.newId(),
      state: 'CREATING',
      creationTime: this.ctx.clock.now(),
      scheduleTime,
    };
    await this.ctx.store.putContent(content);
    this.ctx.metrics.datasetRun(dataset, 'CREATING');
    const run = this.afterDeltaRuns(dataset, definition)
      .then(() => this.execute(content, definition, redo))
      .finally(() => this.running.delete(run));
    this.running.add(run);
    if (definition.actions[0]?.queryAction?.filters?.[0]?.deltaTime) this.deltaRuns.set(dataset.toLowerCase(), run);
    return content.versionId;
  }

  /**
   * The deltaTime window of a content scheduled at T (a manual run's T is the moment it was asked for):
   * [end of the last SUCCEEDED window, T + offsetSeconds), the end capped at now. AWS words the start as
   * "the previous scheduled time plus the offset", which is the same thing while every run succeeds;
   * starting where the last succeeded window ended also covers missed schedules (engine down) and failed
   * runs, so no row is lost or counted twice. The first run has no earlier window and starts at the
   * beginning of time (AWS's docs are silent; this loses nothing). A redo re-runs its own window.
   */
  /** A deltaTime run waits for the one before it, whose window end is where its own window starts. */
  private async afterDeltaRuns(dataset: string, definition: DatasetDefinition): Promise<void> {
    if (!definition.actions[0]?.queryAction?.filters?.[0]?.deltaTime) return;
    await this.deltaRuns.get(dataset.toLowerCase());
  }

  private async window(content: ContentRecord, definition: DatasetDefinition, redo?: ContentRecord) {
    const deltaTime = definition.actions[0]?.queryAction?.filters?.[0]?.deltaTime;
    if (!deltaTime) return undefined;
    if (redo?.windowEnd !== undefined) return { deltaTime, start: redo.windowStart ?? 0, end: redo.windowEnd };
    let start = 0;
    for (const c of await this.ctx.store.listContents(content.datasetName)) {
      // A redone old version is newest by creation but not by window: take the furthest end.
      if (c.state === 'SUCCEEDED' && c.windowEnd !== undefined && c.versionId !== content.versionId) start = Math.max(start, c.windowEnd);
    }
    // A positive offset would reach past now, and rows stamped in that gap would then be skipped by the next window.
    const end = Math.min(content.scheduleTime + deltaTime.offsetSeconds * 1000, content.creationTime);
    return { deltaTime, start, end: Math.max(start, end) };
  }

  private async execute(content: ContentRecord, definition: DatasetDefinition, redo?: ContentRecord): Promise<void> {
    const folder = this.scratch();
    const file = `${content.versionId}.csv`;
    const out = join(folder, file);
    try {
      const query = definition.actions[0]!.queryAction!;
      const window = await this.window(content, definition, redo);
      const dialect = this.ctx.store.sqlDialect;
      const datastores = await this.datastoreNames();
      const translated = translateDatasetSql(query.sqlQuery, {
        datastores,
        dialect,
        ...(window
          ? { deltaTime: { timeExpression: translateTimeExpression(window.deltaTime.timeExpression, dialect), start: window.start, end: window.end } }
          : {}),
      });
      mkdirSync(folder, { recursive: true });
      // Read before the query, so rows that arrive while it runs are looked at again next time.
      const incremental = redo ? undefined : await this.incremental.prepare(definition, datastores);
      const timeout = this.ctx.settings.queryTimeoutMs;
      const result =
        (incremental && (await this.incremental.run(incremental, content, out, timeout))) ??
        (await this.ctx.store.runQuery(translated, out, timeout));
      const done: ContentRecord = {
        ...content,
        state: 'SUCCEEDED',
        completionTime: this.ctx.clock.now(),
        file,
        rowCount: result.rowCount,
        ...(window ? { windowStart: window.start, windowEnd: window.end } : {}),
      };
      if (incremental) await this.incremental.record(incremental, done);
      await this.finish(done, out);
      this.ctx.log.info({ dataset: content.datasetName, version: content.versionId, rows: result.rowCount }, 'dataset content created');
      this.onSucceeded(content.datasetName, content.scheduleTime);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await this.finish({ ...content, state: 'FAILED', reason, completionTime: this.ctx.clock.now() });
      this.ctx.log.warn({ dataset: content.datasetName, version: content.versionId, reason }, 'dataset content failed');
    } finally {
      rmSync(out, { force: true });
    }
  }

  private async finish(content: ContentRecord, bodyFile?: string): Promise<void> {
    // The dataset may have been deleted while its query ran: then its content goes too.
    if (!(await this.ctx.store.getResource('dataset', content.datasetName))) {
      await this.ctx.store.deleteContent(content.datasetName, content.versionId);
      return;
    }
    await this.ctx.store.putContent(content, bodyFile);
    this.ctx.metrics.datasetRun(content.datasetName, content.state, ((content.completionTime ?? content.creationTime) - content.creationTime) / 1000);
    await this.prune(content.datasetName);
  }

  /** Applies versioningConfiguration (default: keep the latest and the latest succeeded) and retention. */
  async prune(dataset: string): Promise<void> {
    const record = await this.ctx.store.getResource<DatasetDefinition>('dataset', dataset);
    if (!record) return;
    const contents = await this.ctx.store.listContents(record.name);
    const versioning = record.definition.versioningConfiguration;
    const keep = new Set<string>();
    const latest = contents[0];
    if (latest) keep.add(latest.versionId);
    if (versioning?.unlimited) {
      for (const c of contents) keep.add(c.versionId);
    } else if (versioning?.maxVersions !== undefined) {
      for (const c of contents.slice(0, versioning.maxVersions)) keep.add(c.versionId);
    } else {
      const succeeded = contents.find((c) => c.state === 'SUCCEEDED');
      if (succeeded) keep.add(succeeded.versionId);
    }
    const cutoff = retentionCutoff(this.ctx.clock.now(), record.definition.retentionPeriod);
    for (const c of contents) {
      const expired = cutoff !== undefined && c.creationTime < cutoff && c !== latest;
      if (c.state === 'CREATING' || (keep.has(c.versionId) && !expired)) continue;
      await this.remove(c);
    }
  }

  private async remove(content: ContentRecord): Promise<void> {
    await this.ctx.store.deleteContent(content.datasetName, content.versionId);
  }

  /** Without a versionId, Get and DeleteDatasetContent mean $LATEST_SUCCEEDED (service-2.json). */
  private async resolve(dataset: string, versionId: string | undefined): Promise<ContentRecord> {
    const contents = await this.ctx.store.listContents(dataset);
    const wanted = versionId ?? LATEST_SUCCEEDED;
    const content =
      wanted === LATEST ? contents[0] : wanted === LATEST_SUCCEEDED ? contents.find((c) => c.state === 'SUCCEEDED') : contents.find((c) => c.versionId === wanted);
    if (!content) throw new ResourceNotFoundException(`Dataset "${dataset}" has no content ${wanted}; create it with CreateDatasetContent or wait for its schedule.`);
    return content;
  }

  async get(input: GetDatasetContentRequest): Promise<GetDatasetContentResponse> {
    const request = parseRequest(getSchema, input, 'GetDatasetContent');
    const record = await this.datasets.get(request.datasetName);
    const content = await this.resolve(record.name, request.versionId);
    const entryName = DatasetContents.entryName(record.name);
    return {
      entries:
        content.state === 'SUCCEEDED'
          ? [{ entryName, dataURI: this.ctx.contentUrl({ datasetName: record.name, versionId: content.versionId, entryName }) }]
          : [],
      timestamp: new Date(content.creationTime),
      status: { state: content.state, ...(content.reason ? { reason: content.reason } : {}) },
    };
  }

  async delete(input: DeleteDatasetContentRequest): Promise<void> {
    const request = parseRequest(getSchema, input, 'DeleteDatasetContent');
    const record = await this.datasets.get(request.datasetName);
    const content = await this.resolve(record.name, request.versionId);
    await this.remove(content);
  }

  async list(input: ListDatasetContentsRequest): Promise<ListDatasetContentsResponse> {
    const request = parseRequest(listSchema, input, 'ListDatasetContents');
    const record = await this.datasets.get(request.datasetName);
    const from = request.scheduledOnOrAfter?.getTime() ?? -Infinity;
    const before = request.scheduledBefore?.getTime() ?? Infinity;
    let contents = (await this.ctx.store.listContents(record.name)).filter((c) => c.scheduleTime >= from && c.scheduleTime < before);
    const after = decodeToken(request.nextToken);
    if (after !== undefined) contents = contents.slice(contents.findIndex((c) => c.versionId === after) + 1);
    const size = request.maxResults ?? DEFAULT_PAGE_SIZE;
    const pageItems = contents.slice(0, size);
    const summaries: DatasetContentSummary[] = pageItems.map((c) => ({
      version: c.versionId,
      status: { state: c.state, ...(c.reason ? { reason: c.reason } : {}) },
      creationTime: new Date(c.creationTime),
      scheduleTime: new Date(c.scheduleTime),
      ...(c.completionTime === undefined ? {} : { completionTime: new Date(c.completionTime) }),
    }));
    return {
      datasetContentSummaries: summaries,
      ...(contents.length > size ? { nextToken: encodeToken(pageItems.at(-1)!.versionId) } : {}),
    };
  }

  /** Removes every version of a deleted dataset. */
  async removeAll(dataset: string): Promise<void> {
    for (const content of await this.ctx.store.listContents(dataset)) await this.ctx.store.deleteContent(dataset, content.versionId);
  }

  async open(ref: ContentRef): Promise<DatasetContentFile> {
    const content = await this.ctx.store.getContent(ref.datasetName, ref.versionId);
    const record = await this.ctx.store.getResource('dataset', ref.datasetName);
    if (!record || !content || content.state !== 'SUCCEEDED' || !content.file || ref.entryName !== DatasetContents.entryName(record.name)) {
      throw new ResourceNotFoundException(`Dataset "${ref.datasetName}" has no content file ${ref.versionId}/${ref.entryName}; it may have expired.`);
    }
    const body = await this.ctx.store.openContentBody(content.datasetName, content.versionId);
    if (!body) throw new ResourceNotFoundException(`The content file of dataset "${ref.datasetName}" version ${ref.versionId} is gone.`);
    return { chunks: () => body.chunks(), sizeBytes: body.sizeBytes, contentType: CONTENT_TYPE, fileName: `${record.name}-${content.versionId}.csv` };
  }
}
