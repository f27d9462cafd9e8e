import { pipelineActivitySchema, toPipelineActivity, type ParsedActivity } from './activities/activity-schema.ts';
import { compileActivity, runSteps } from './activities/compile-activity.ts';
import type { ThingDirectory } from './activities/enrich-activities.ts';
import type { LambdaHost } from './activities/lambda-host.ts';
import type { ActivityStep } from './activities/step.ts';
import type {
  CreatePipelineRequest, CreatePipelineResponse, DeletePipelineRequest, DescribePipelineRequest, DescribePipelineResponse,
  ListPipelinesResponse, ListRequest, PipelineActivity, PipelineSummary, ReprocessingSummary, RunPipelineActivityRequest,
  RunPipelineActivityResponse, UpdatePipelineRequest,
} from './engine.ts';
import { createPipelineRequest, listPipelinesRequest, runPipelineActivityRequest, updatePipelineRequest } from '../model/pipelines.ts';
import { arnOf, type EngineContext } from './engine-context.ts';
import { InvalidRequestException, ResourceAlreadyExistsException, ResourceNotFoundException } from './errors.ts';
import { BinaryRefusals, isBinaryMessage, messageOfPayload, NOT_DECODED, payloadOfMessage } from './binary-messages.ts';
import { checkResourceName } from './names.ts';
import { page } from './pagination.ts';
import { buildPipelineGraph } from './pipeline-graph.ts';
import { parseRequest } from './request-parse.ts';
import { MAX_PAYLOAD_BYTES } from '../settings.ts';
import type { MessageSink } from './channels.ts';
import type { DatastoreRowIn, ResourceRecord } from '../storage/cloud-store.ts';

/**
 * Pipelines: validated when created, compiled once (expressions parsed, lambda modules located), and
 * run on every batch a channel accepts. A pipeline's failure is logged and never undoes the channel
 * write: the raw messages stay, and reprocessing can replay them.
 */

export { MAX_RUN_PAYLOADS } from '../model/pipelines.ts';

export interface PipelineDefinition {
  activities: PipelineActivity[];
}

export interface CompiledPipeline {
  name: string;
  channelName: string;
  datastoreName: string;
  steps: ActivityStep[];
}

// The request schemas are the API model's (cloud/model/pipelines.ts); RunPipelineActivity's activity also gets its kind.
const createSchema = createPipelineRequest;
const updateSchema = updatePipelineRequest;
const runSchema = runPipelineActivityRequest.extend({ pipelineActivity: pipelineActivitySchema });
const listRequestSchema = listPipelinesRequest;

export interface PipelineServices {
  lambdas: LambdaHost;
  things: ThingDirectory;
  /** Writes pipeline output to a datastore; the datastore part of the engine owns this. */
  writeDatastore(datastoreName: string, messages: Record<string, unknown>[], arrival: number): Promise<void>;
  reprocessingSummaries(pipelineName: string): Promise<ReprocessingSummary[]>;
}

export class Pipelines implements MessageSink {
  private readonly compiled = new Map<string, CompiledPipeline>();
  /** Per pipeline, the stored definition last compiled (updatedAt and activities), so sync() compiles only changes. */
  private readonly seen = new Map<string, string>();
  /** Binary messages refused by activities other than lambda, per pipeline (logged at most every 10 s). */
  readonly refusals: BinaryRefusals;

  constructor(
    private readonly ctx: EngineContext,
    private readonly services: PipelineServices,
  ) {
    this.refusals = new BinaryRefusals(ctx.log, () => ctx.clock.now());
  }

  arn(pipelineName: string): string {
    return arnOf(this.ctx.settings, 'pipeline', pipelineName);
  }

  /** Compiles every stored pipeline; one that no longer compiles (a lambda file removed) is logged and skipped. */
  async load(): Promise<void> {
    this.compiled.clear();
    this.seen.clear();
    await this.sync();
  }

  /**
   * Brings the compiled pipelines in line with the store: another engine on the same database may have
   * created, updated or deleted one since (a load balancer sends each API call to any engine). One
   * catalog read per ingest batch; only a changed definition is compiled again.
   */
  private async sync(): Promise<void> {
    const stored = await this.ctx.store.listResources<PipelineDefinition>('pipeline');
    const names = new Set<string>();
    for (const record of stored) {
      const key = record.name.toLowerCase();
      names.add(key);
      const signature = `${record.updatedAt}:${JSON.stringify(record.definition.activities)}`;
      if (this.seen.get(key) === signature) continue;
      this.seen.set(key, signature);
      try {
        this.compiled.set(key, await this.compile(record.name, record.definition.activities));
      } catch (error) {
        this.compiled.delete(key);
        this.ctx.log.error({ pipeline: record.name, err: error }, 'pipeline does not compile; it will not process messages until updated');
      }
    }
    for (const key of [...this.compiled.keys(), ...this.seen.keys()]) {
      if (names.has(key)) continue;
      this.compiled.delete(key);
      this.seen.delete(key);
    }
  }

  async get(pipelineName: string): Promise<ResourceRecord<PipelineDefinition>> {
    const record = await this.ctx.store.getResource<PipelineDefinition>('pipeline', pipelineName);
    if (!record) throw new ResourceNotFoundException(`Pipeline "${pipelineName}" does not exist; create it with CreatePipeline first.`);
    return record;
  }

  compiledFor(pipelineName: string): CompiledPipeline | undefined {
    return this.compiled.get(pipelineName.toLowerCase());
  }

  private async compile(pipelineName: string, activities: unknown[], operation = 'pipelineActivities'): Promise<CompiledPipeline> {
    const graph = buildPipelineGraph(activities, operation);
    const missing: string[] = [];
    if (!(await this.ctx.store.getResource('channel', graph.channelName))) missing.push(`channel "${graph.channelName}"`);
    if (!(await this.ctx.store.getResource('datastore', graph.datastoreName))) missing.push(`datastore "${graph.datastoreName}"`);
    if (missing.length > 0) throw new InvalidRequestException(`${operation}: ${missing.join(' and ')} do not exist; create them before the pipeline.`);
    const steps: ActivityStep[] = [];
    for (const activity of graph.ordered) {
      const onFailure = (failed: string) => this.ctx.metrics.activityFailed(pipelineName, failed);
      const step = compileActivity(activity, { lambdas: this.services.lambdas, things: this.services.things, log: this.ctx.log, onFailure });
      if (step) steps.push(step);
    }
    return { name: pipelineName, channelName: graph.channelName, datastoreName: graph.datastoreName, steps };
  }

  async create(input: CreatePipelineRequest): Promise<CreatePipelineResponse> {
    const request = parseRequest(createSchema, input, 'CreatePipeline');
    const compiled = await this.compile(request.pipelineName, request.pipelineActivities, 'CreatePipeline');
    const now = this.ctx.clock.now();
    const definition: PipelineDefinition = { activities: normalise(request.pipelineActivities) };
    const inserted = await this.ctx.store.insertResource({ type: 'pipeline', name: request.pipelineName, definition, createdAt: now, updatedAt: now });
    if (!inserted) {
      throw new ResourceAlreadyExistsException(`Pipeline "${request.pipelineName}" already exists (names are unique ignoring case).`, request.pipelineName, this.arn(request.pipelineName));
    }
    this.compiled.set(request.pipelineName.toLowerCase(), compiled);
    if (request.tags) await this.ctx.store.setTags(this.arn(request.pipelineName), request.tags);
    return { pipelineName: request.pipelineName, pipelineArn: this.arn(request.pipelineName) };
  }

  async update(input: UpdatePipelineRequest): Promise<void> {
    const request = parseRequest(updateSchema, input, 'UpdatePipeline');
    const record = await this.get(request.pipelineName);
    const compiled = await this.compile(record.name, request.pipelineActivities, 'UpdatePipeline');
    await this.ctx.store.updateResource('pipeline', record.name, { activities: normalise(request.pipelineActivities) }, this.ctx.clock.now());
    this.compiled.set(record.name.toLowerCase(), compiled);
  }

  async delete(input: DeletePipelineRequest): Promise<void> {
    const record = await this.get(checkResourceName('pipeline', input?.pipelineName));
    await this.ctx.store.deleteResource('pipeline', record.name);
    await this.ctx.store.deleteAllTags(this.arn(record.name));
    this.compiled.delete(record.name.toLowerCase());
  }

  async describe(input: DescribePipelineRequest): Promise<DescribePipelineResponse> {
    const record = await this.get(checkResourceName('pipeline', input?.pipelineName));
    return {
      pipeline: {
        name: record.name,
        arn: this.arn(record.name),
        activities: record.definition.activities,
        reprocessingSummaries: await this.services.reprocessingSummaries(record.name),
        creationTime: new Date(record.createdAt),
        lastUpdateTime: new Date(record.updatedAt),
      },
    };
  }

  async list(input: ListRequest): Promise<ListPipelinesResponse> {
    const request = parseRequest(listRequestSchema, input ?? {}, 'ListPipelines');
    const result = await page((after, limit) => this.ctx.store.listResources<PipelineDefinition>('pipeline', { after, limit }), (r) => r.name, request);
    const summaries: PipelineSummary[] = [];
    for (const record of result.items) {
      summaries.push({
        pipelineName: record.name,
        reprocessingSummaries: await this.services.reprocessingSummaries(record.name),
        creationTime: new Date(record.createdAt),
        lastUpdateTime: new Date(record.updatedAt),
      });
    }
    return { pipelineSummaries: summaries, ...(result.nextToken ? { nextToken: result.nextToken } : {}) };
  }

  /**
   * The datastore rows every pipeline reading the channel makes of a batch, without writing them: the
   * channel commits them together with the messages (CloudStore.commitIngest).
   */
  async rowsFor(channelName: string, messages: Record<string, unknown>[], arrival: number): Promise<{ datastore: string; rows: DatastoreRowIn[] }[]> {
    await this.sync();
    const folded = channelName.toLowerCase();
    const readers = [...this.compiled.values()].filter((p) => p.channelName.toLowerCase() === folded);
    const outputs: { datastore: string; rows: DatastoreRowIn[] }[] = [];
    for (let i = 0; i < readers.length; i += 1) {
      // Activities change messages in place: every pipeline after the first works on its own copy.
      const batch = i === readers.length - 1 ? messages : structuredClone(messages);
      const out = await this.transform(readers[i]!, batch);
      if (out.length > 0) outputs.push({ datastore: readers[i]!.datastoreName, rows: out.map((record) => ({ record, arrival })) });
    }
    return outputs;
  }

  /** Runs one batch through one pipeline; a failure is logged and gives no rows, never thrown. */
  private async transform(pipeline: CompiledPipeline, batch: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    try {
      return await runSteps(pipeline.steps, batch, this.refusals.sinkFor(pipeline.name));
    } catch (error) {
      this.ctx.metrics.batchFailed(pipeline.name);
      this.ctx.log.error({ pipeline: pipeline.name, err: error, dropped: batch.length }, 'pipeline failed on a batch; the raw messages stay in the channel');
      return [];
    }
  }

  /** Runs one batch through one pipeline into its datastore (reprocessing); failures are logged, never thrown. */
  async process(pipeline: CompiledPipeline, batch: Record<string, unknown>[], arrival: number): Promise<number> {
    const out = await this.transform(pipeline, batch);
    if (out.length > 0) await this.services.writeDatastore(pipeline.datastoreName, out, arrival);
    return out.length;
  }

  async runActivity(input: RunPipelineActivityRequest): Promise<RunPipelineActivityResponse> {
    const request = parseRequest(runSchema, input, 'RunPipelineActivity');
    const activity: ParsedActivity = request.pipelineActivity;
    if (activity.kind === 'channel' || activity.kind === 'datastore') {
      throw new InvalidRequestException(`RunPipelineActivity: a ${activity.kind} activity cannot be run on its own; give a processing activity such as math or filter.`);
    }
    const messages: Record<string, unknown>[] = [];
    const refused: string[] = [];
    for (const [i, payload] of request.payloads.entries()) {
      const parsed = messageOfPayload(payload, MAX_PAYLOAD_BYTES);
      if ('problem' in parsed) throw new InvalidRequestException(`RunPipelineActivity: payloads.${i}: ${parsed.problem}.`);
      // Refused here, per payload, so the answer can say which; the runner would only count them.
      if (activity.kind !== 'lambda' && isBinaryMessage(parsed.value)) refused.push(`payloads.${i} refused: ${NOT_DECODED}.`);
      else messages.push(parsed.value);
    }
    const step = compileActivity(activity, { lambdas: this.services.lambdas, things: this.services.things, log: this.ctx.log, strict: true })!;
    let out: Record<string, unknown>[];
    try {
      // A lambda may hand bytes back undecoded; they are returned as they are, not refused as a datastore would.
      out = messages.length === 0 ? [] : await step.run(messages);
    } catch (error) {
      throw new InvalidRequestException(`RunPipelineActivity: activity "${activity.name}" failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return {
      payloads: out.map(payloadOfMessage),
      logResult: [`${activity.kind} activity "${activity.name}": ${request.payloads.length} in, ${out.length} out`, ...refused].join('\n'),
    };
  }
}

/** Keeps the wire shape for DescribePipeline, with fields zod filled in (defaults) and unknown ones dropped. */
function normalise(activities: unknown[]): PipelineActivity[] {
  return activities.map((a) => toPipelineActivity(pipelineActivitySchema.parse(a)));
}
