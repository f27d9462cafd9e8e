import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import type { DatasetDefinition } from './datasets.ts';
import type { EngineContext } from './engine-context.ts';
import { groupKey, isPlainDevice, mergeGroups } from '../query/csv-group-merge.ts';
import { BUCKET_MS, planIncremental, restrictToGroups, type Group, type IncrementalPlan } from '../query/incremental-plan.ts';
import type { ContentRecord, DatastoreMark, QueryResult } from '../storage/cloud-store.ts';

/**
 * Incremental refresh of a grouped dataset such as weather_daily: instead of re-reading the whole
 * history, a run recomputes only the groups (device, time bucket) that rows arrived in since the
 * previous SUCCEEDED content, with the dataset's own query restricted to those groups' rows (so every
 * aggregate is exact, never merged from partials), and merges them into that content's CSV in ORDER
 * BY order. The result is byte for byte the full query's. Eligible queries: see incremental-plan.ts.
 *
 * A content records, in the setting `incremental:<dataset>`, its version, the dataset definition,
 * the datastore's generation and removal count (DatastoreMark) and the largest __arrival it saw. The
 * next run patches that content only when all of these still hold: it is the latest SUCCEEDED
 * version and its body is in the store, the definition is the same, the datastore was not dropped and
 * re-created, retention deleted nothing since, every time value stored is a number, and the rows
 * that arrived since are few and have plain keys (csv-group-merge.ts). Otherwise, and for deltaTime
 * datasets, the run is the full query as before, and records its state for the next one.
 *
 * Late data (an old ts, a new arrival) and reprocessing (rows re-added with new arrivals) touch old
 * groups through their arrival, so they are recomputed like any other. Rows are scanned from
 * ARRIVAL_SETTLE_MS before the recorded watermark: a row's arrival is stamped when its message reached
 * the channel, before its pipeline committed it, so a row committed after the watermark was read may
 * carry an earlier arrival. Recomputing a group twice is harmless.
 *
 * The recomputed groups are read through the (device, time) index, the full query scans the table:
 * the rows of a group are added up in another order. SQLite's sum() and avg() use compensated
 * (Kahan-Babuska-Neumaier) summation, whose result does not depend on that order short of
 * catastrophic cancellation, so the CSV does not change. A backend whose float sum is plain
 * accumulation needs the same care before it takes this path.
 */

/** How far before the watermark arrivals are scanned again; a pipeline takes far less from channel to datastore. */
export const ARRIVAL_SETTLE_MS = 10 * 60_000;
/** More distinct (device, time) pairs than this since the last run: the full query is as cheap. */
const MAX_ARRIVED_KEYS = 200_000;
/** More groups than this: the restricted query's text grows too long to be worth it. */
const MAX_GROUPS = 5_000;
/** Epoch ms of year 10000, past which date_trunc's text would not be 'YYYY-...'. */
const TS_LIMIT = 253_402_300_800_000;

interface IncrementalState {
  versionId: string;
  fingerprint: string;
  generation: string;
  removals: number;
  watermark: number;
}

/** An eligible dataset's plan and where its datastore stood before the run. */
export interface Prepared {
  plan: IncrementalPlan;
  datastore: string;
  datastores: string[];
  fingerprint: string;
  mark: DatastoreMark;
}

const stateKey = (dataset: string): string => `incremental:${dataset.toLowerCase()}`;

function bucketText(start: number): string {
  const iso = new Date(start).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

export class IncrementalRefresh {
  constructor(private readonly ctx: EngineContext) {}

  /** The plan for an eligible dataset, read before its query runs; undefined runs in full and records nothing. */
  async prepare(definition: DatasetDefinition, datastores: string[]): Promise<Prepared | undefined> {
    const query = definition.actions[0]?.queryAction;
    if (!query || (query.filters?.length ?? 0) > 0 || definition.actions.length !== 1) return undefined;
    const plan = planIncremental(query.sqlQuery);
    const datastore = plan && datastores.find((d) => d.toLowerCase() === plan.datastore.toLowerCase());
    if (!plan || !datastore) return undefined;
    try {
      const mark = await this.ctx.store.datastoreMark(datastore, plan.time);
      return { plan, datastore, datastores, fingerprint: JSON.stringify(definition.actions), mark };
    } catch {
      return undefined;
    }
  }

  /**
   * Writes `outFile` by patching the previous content, or returns undefined when it cannot be done
   * safely (the caller then runs the full query). The previous content's CSV is read from the store.
   */
  async run(prepared: Prepared, content: ContentRecord, outFile: string, timeoutMs: number): Promise<QueryResult | undefined> {
    try {
      return await this.patch(prepared, content, outFile, timeoutMs);
    } catch (error) {
      // The full query decides: it fails with its own reason if the problem is not ours.
      this.ctx.log.warn({ err: error, dataset: content.datasetName }, 'incremental refresh failed; running the full query');
      return undefined;
    }
  }

  private async patch(prepared: Prepared, content: ContentRecord, outFile: string, timeoutMs: number): Promise<QueryResult | undefined> {
    const state = await this.ctx.store.getSetting<IncrementalState>(stateKey(content.datasetName));
    const { mark, plan } = prepared;
    if (!state || state.fingerprint !== prepared.fingerprint || state.generation !== mark.generation || state.removals !== mark.removals || !mark.numericTime) return undefined;
    const latest = (await this.ctx.store.listContents(content.datasetName)).find((c) => c.state === 'SUCCEEDED' && c.versionId !== content.versionId);
    if (!latest?.file || latest.versionId !== state.versionId) return undefined;
    const body = await this.ctx.store.openContentBody(latest.datasetName, latest.versionId);
    if (!body) return undefined;
    const previous = await text(Readable.from(body.chunks()));
    const since = state.watermark - ARRIVAL_SETTLE_MS;
    const arrived = await this.ctx.store.arrivedKeys(prepared.datastore, { device: plan.device, time: plan.time }, since, MAX_ARRIVED_KEYS + 1);
    if (arrived.length > MAX_ARRIVED_KEYS) return undefined;
    const width = BUCKET_MS[plan.unit];
    const groups = new Map<string, Group>();
    for (const [device, time] of arrived) {
      if (!isPlainDevice(device) || typeof time !== 'number' || !(time > width && time < TS_LIMIT)) return undefined;
      // Both sides of a fractional ms, as SQLite rounds it (see restrictToGroups).
      for (const t of [time - 1, time + 1]) {
        const start = Math.floor(t / width) * width;
        groups.set(groupKey(device, bucketText(start)), { device, start });
      }
    }
    if (groups.size > MAX_GROUPS) return undefined;
    let recomputed = previous.slice(0, previous.indexOf('\r\n') + 2);
    if (groups.size > 0) {
      const restricted = restrictToGroups(plan, [...groups.values()], { datastores: prepared.datastores, dialect: this.ctx.store.sqlDialect });
      const groupsFile = `${outFile}.groups`;
      try {
        await this.ctx.store.runQuery(restricted, groupsFile, timeoutMs);
        recomputed = readFileSync(groupsFile, 'utf8');
      } finally {
        rmSync(groupsFile, { force: true });
      }
    }
    const merged = mergeGroups(previous, recomputed, plan, new Set(groups.keys()));
    if (!merged) return undefined;
    writeFileSync(`${outFile}.partial`, merged.text);
    renameSync(`${outFile}.partial`, outFile);
    this.ctx.log.debug({ dataset: content.datasetName, groups: groups.size, arrived: arrived.length }, 'dataset content patched incrementally');
    return { columns: [], rowCount: merged.rows };
  }

  /** After a SUCCEEDED content, full or patched: where it stands, for the next run. */
  async record(prepared: Prepared, content: ContentRecord): Promise<void> {
    const state: IncrementalState = {
      versionId: content.versionId,
      fingerprint: prepared.fingerprint,
      generation: prepared.mark.generation,
      removals: prepared.mark.removals,
      watermark: prepared.mark.lastArrival ?? 0,
    };
    await this.ctx.store.putSetting(stateKey(content.datasetName), state);
  }
}
