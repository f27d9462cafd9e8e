import { cancelPipelineReprocessingRequest, startPipelineReprocessingRequest } from '../model/pipelines.ts';
import type {
  CancelPipelineReprocessingRequest, ReprocessingStatus, ReprocessingSummary, StartPipelineReprocessingRequest,
  StartPipelineReprocessingResponse,
} from './engine.ts';
import type { EngineContext } from './engine-context.ts';
import { InvalidRequestException, ResourceAlreadyExistsException, ResourceNotFoundException } from './errors.ts';
import { messageOfPayload } from './binary-messages.ts';
import type { Pipelines } from './pipelines.ts';
import { parseRequest } from './request-parse.ts';
import { MAX_PAYLOAD_BYTES } from '../settings.ts';
import type { ReprocessingRecord } from '../storage/cloud-store.ts';

/**
 * StartPipelineReprocessing replays a channel's messages that arrived in [startTime, endTime) through
 * the pipeline's current activities, one page at a time; cancelling stops it between pages. One run
 * per pipeline at a time. Rows already in the datastore stay, so a replay adds them again, as in AWS.
 */

/** Messages read and processed per page. */
export const REPROCESS_PAGE = 500;
/**
 * How long a run's lease `reprocessing:<pipeline>` lasts without renewal; the run renews it between pages
 * once a third has passed. A worker that dies holding it blocks the pipeline's reprocessing this long at most.
 */
export const REPROCESS_LEASE_MS = 60_000;
/** How many finished runs DescribePipeline lists. */
const SUMMARIES_SHOWN = 10;

// The request schemas are the API model's (cloud/model/pipelines.ts): one definition for the wire and for direct calls.
const startSchema = startPipelineReprocessingRequest;
const cancelSchema = cancelPipelineReprocessingRequest;

interface Run {
  record: ReprocessingRecord;
  cancelled: boolean;
  done: Promise<void>;
}

export class Reprocessing {
  private readonly runs = new Map<string, Run>();
  /** This engine's name in the leases: several workers on one database run one reprocessing per pipeline between them. */
  private readonly holder: string;

  constructor(
    private readonly ctx: EngineContext,
    private readonly pipelines: Pipelines,
  ) {
    this.holder = ctx.newId();
  }

  /** Runs left RUNNING by a stopped engine cannot resume: mark them FAILED (unless another worker's run is live). */
  async recover(): Promise<void> {
    for (const pipeline of await this.ctx.store.listResources('pipeline')) {
      const key = leaseKey(pipeline.name);
      if (!(await this.ctx.store.claimLease(key, this.holder, REPROCESS_LEASE_MS, this.ctx.clock.now()))) continue;
      try {
        await this.failAbandoned(pipeline.name);
      } finally {
        await this.ctx.store.releaseLease(key, this.holder);
      }
    }
  }

  /**
   * Called holding the pipeline's lease: a RUNNING record then belongs to an engine that stopped or died
   * (its lease expired), so it can never finish. The record has no reason field (the API's summary has
   * none either), so the reason goes to the log.
   */
  private async failAbandoned(pipelineName: string): Promise<void> {
    for (const record of await this.ctx.store.listReprocessings(pipelineName)) {
      if (record.status !== 'RUNNING' || this.runs.get(pipelineName.toLowerCase())?.record.id === record.id) continue;
      await this.ctx.store.putReprocessing({ ...record, status: 'FAILED' });
      this.ctx.log.warn({ pipeline: pipelineName, reprocessingId: record.id }, 'marked a reprocessing FAILED: the engine running it stopped before it finished');
    }
  }

  async summaries(pipelineName: string): Promise<ReprocessingSummary[]> {
    const records = await this.ctx.store.listReprocessings(pipelineName);
    return records.slice(0, SUMMARIES_SHOWN).map((r) => ({ id: r.id, status: r.status, creationTime: new Date(r.creationTime) }));
  }

  async start(input: StartPipelineReprocessingRequest): Promise<StartPipelineReprocessingResponse> {
    // channelMessages (S3 paths) is refused, with its reason, by the model's schema.
    const request = parseRequest(startSchema, input, 'StartPipelineReprocessing');
    const record = await this.pipelines.get(request.pipelineName);
    const start = request.startTime?.getTime();
    const end = request.endTime?.getTime();
    if (start !== undefined && end !== undefined && start >= end) throw new InvalidRequestException('StartPipelineReprocessing: startTime must be before endTime.');
    const key = record.name.toLowerCase();
    const current = this.runs.get(key);
    if (current) {
      throw new ResourceAlreadyExistsException(`Pipeline "${record.name}" is already reprocessing (${current.record.id}); wait for it or cancel it.`, current.record.id);
    }
    const compiled = this.pipelines.compiledFor(record.name);
    if (!compiled) throw new InvalidRequestException(`Pipeline "${record.name}" does not compile; update it before reprocessing.`);
    if (!(await this.ctx.store.claimLease(leaseKey(record.name), this.holder, REPROCESS_LEASE_MS, this.ctx.clock.now()))) {
      const running = (await this.ctx.store.listReprocessings(record.name)).find((r) => r.status === 'RUNNING');
      throw new ResourceAlreadyExistsException(
        `Pipeline "${record.name}" is already reprocessing${running ? ` (${running.id})` : ''} on another engine; wait for it or cancel it.`,
        running?.id ?? '',
      );
    }
    await this.failAbandoned(record.name);
    const reprocessing: ReprocessingRecord = {
      id: this.ctx.newId(),
      pipelineName: record.name,
      status: 'RUNNING',
      creationTime: this.ctx.clock.now(),
      ...(start === undefined ? {} : { startTime: start }),
      ...(end === undefined ? {} : { endTime: end }),
    };
    await this.ctx.store.putReprocessing(reprocessing);
    const run: Run = { record: reprocessing, cancelled: false, done: Promise.resolve() };
    run.done = this.replay(run, compiled).finally(async () => {
      this.runs.delete(key);
      await this.ctx.store.releaseLease(leaseKey(record.name), this.holder).catch((error: unknown) => this.ctx.log.warn({ err: error, pipeline: record.name }, 'could not release the reprocessing lease; it expires by itself'));
    });
    this.runs.set(key, run);
    return { reprocessingId: reprocessing.id };
  }

  private async replay(run: Run, pipeline: NonNullable<ReturnType<Pipelines['compiledFor']>>): Promise<void> {
    let status: ReprocessingStatus = 'SUCCEEDED';
    let renewed = this.ctx.clock.now();
    try {
      let afterSeq = 0;
      for (;;) {
        if (run.cancelled) {
          status = 'CANCELLED';
          break;
        }
        if (this.ctx.clock.now() - renewed >= REPROCESS_LEASE_MS / 3) {
          renewed = this.ctx.clock.now();
          // Lost (this engine stalled past the lease): another worker may start a run now, so this one stops.
          if (!(await this.ctx.store.claimLease(leaseKey(pipeline.name), this.holder, REPROCESS_LEASE_MS, renewed))) throw new Error('the reprocessing lease expired while the run was stalled');
        }
        const page = await this.ctx.store.readChannelMessages(pipeline.channelName, {
          start: run.record.startTime,
          end: run.record.endTime,
          afterSeq,
          limit: REPROCESS_PAGE,
        });
        if (page.length === 0) break;
        afterSeq = page.at(-1)!.seq;
        const batch: Record<string, unknown>[] = [];
        for (const message of page) {
          const parsed = messageOfPayload(message.payload, MAX_PAYLOAD_BYTES);
          if ('value' in parsed) batch.push(parsed.value);
        }
        await this.pipelines.process(pipeline, batch, this.ctx.clock.now());
        // Let API calls (a cancel among them) in between pages.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      status = 'FAILED';
      this.ctx.log.error({ err: error, pipeline: pipeline.name }, 'reprocessing failed');
    }
    await this.ctx.store.putReprocessing({ ...run.record, status });
  }

  async cancel(input: CancelPipelineReprocessingRequest): Promise<void> {
    const request = parseRequest(cancelSchema, input, 'CancelPipelineReprocessing');
    // A run of this engine is marked before any round trip: a short run could end during one, and the
    // cancel then be refused as too late (seen on PostgreSQL).
    const run = this.runs.get(request.pipelineName.toLowerCase());
    if (run && run.record.id === request.reprocessingId) {
      run.cancelled = true;
      await run.done;
      return;
    }
    const record = await this.pipelines.get(request.pipelineName);
    const known = (await this.ctx.store.listReprocessings(record.name)).find((r) => r.id === request.reprocessingId);
    if (!known) throw new ResourceNotFoundException(`Pipeline "${record.name}" has no reprocessing "${request.reprocessingId}".`);
    throw new InvalidRequestException(`Reprocessing "${request.reprocessingId}" already ended (${known.status}); there is nothing to cancel.`);
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
  }
}

const leaseKey = (pipelineName: string) => `reprocessing:${pipelineName.toLowerCase()}`;
