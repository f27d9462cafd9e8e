import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_API_REGION } from './api-settings.ts';
import { IotAnalyticsFetch } from './iotanalytics-fetch.ts';
import { describeIssues } from './operations.ts';
import { createChannelBody } from './routes-channels.ts';
import { createDatasetBody } from './routes-datasets.ts';
import { createDatastoreBody } from './routes-datastores.ts';
import { createPipelineBody } from './routes-pipelines.ts';
import { IOT_SIGNING_NAME, topicRuleEntry } from './routes-rules.ts';
import { thingEntry } from './routes-things.ts';
import { SignedFetchError, signedFetch, type SignedFetchOptions } from './signed-fetch.ts';
import type { SigningCredentials } from './sigv4.ts';

/**
 * `hedgerow cloud apply FILE`: a tiny CloudFormation. The file lists channels, datastores, pipelines,
 * datasets, IoT Core topic rules and things in the shape of their Create* request bodies (JSON or YAML). Each resource is
 * read through the API and planned as create, update or unchanged; the plan is printed, then carried out
 * through the API in dependency order. A field left out of the file is left as it is on the server, so
 * applying the same file twice changes nothing the second time.
 */

export const resourceFileSchema = z
  .strictObject({
    channels: z.array(createChannelBody).default([]),
    datastores: z.array(createDatastoreBody).default([]),
    pipelines: z.array(createPipelineBody).default([]),
    datasets: z.array(createDatasetBody).default([]),
    rules: z.array(topicRuleEntry).default([]),
    things: z.array(thingEntry).default([]),
    /** A note for people reading the file; ignored. */
    $comment: z.string().optional(),
  })
  .superRefine((file, ctx) => {
    const lists = [
      ['channels', file.channels.map((c) => c.channelName)],
      ['datastores', file.datastores.map((d) => d.datastoreName)],
      ['pipelines', file.pipelines.map((p) => p.pipelineName)],
      ['datasets', file.datasets.map((d) => d.datasetName)],
      ['rules', file.rules.map((r) => r.ruleName)],
      ['things', file.things.map((t) => t.thingName)],
    ] as const;
    for (const [kind, names] of lists) {
      names.forEach((name, index) => {
        if (names.indexOf(name) !== index) ctx.addIssue({ code: 'custom', path: [kind, index], message: `${name} is listed twice` });
      });
    }
  });

export type ResourceFile = z.output<typeof resourceFileSchema>;
export type ResourceKind = 'thing' | 'channel' | 'datastore' | 'pipeline' | 'dataset' | 'rule';
export type PlanAction = 'create' | 'update' | 'unchanged';

export interface PlanEntry {
  kind: ResourceKind;
  name: string;
  action: PlanAction;
  /** The top-level fields that differ (for updates). */
  changes: string[];
}

export interface ApplyReport {
  entries: PlanEntry[];
  applied: boolean;
}

export interface ApplyOptions {
  /** Region to sign for: the server's api.region. Default eu-west-1, its default. */
  region?: string;
  /** Print the plan only. */
  dryRun?: boolean;
  /** Where the plan and progress lines go. Default stdout. */
  print?: (line: string) => void;
}

/** A resource file that cannot be read, or a step the server refused; the message says which and why. */
export class ApplyError extends Error {
  override readonly name = 'ApplyError';
}

export function readResourceFile(path: string): ResourceFile {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (error) {
    throw new ApplyError(`${path}: cannot read the resource file: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  const result = resourceFileSchema.safeParse(raw);
  if (!result.success) throw new ApplyError(`${path}: ${describeIssues(result.error, 'file').replace(/^Invalid file parameters: /, '')}`);
  return result.data;
}

/** Whether `current` has every value `desired` sets (deeply); extra fields and defaults on the server do not count. */
export function covers(current: unknown, desired: unknown): boolean {
  if (desired === undefined) return true;
  if (Array.isArray(desired)) return Array.isArray(current) && current.length === desired.length && desired.every((d, i) => covers(current[i], d));
  if (desired !== null && typeof desired === 'object') {
    if (current === null || typeof current !== 'object') return false;
    return Object.entries(desired).every(([key, value]) => covers((current as Record<string, unknown>)[key], value));
  }
  return Object.is(current, desired);
}

interface Step extends PlanEntry {
  run: () => Promise<void>;
}

type Tags = Array<{ key: string; value: string }> | undefined;

function differing(current: Record<string, unknown>, desired: Record<string, unknown>, fields: readonly string[]): string[] {
  return fields.filter((field) => !covers(current[field], desired[field]));
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

async function orNothing<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Datasets triggered by another dataset go after it. */
function datasetOrder(datasets: ResourceFile['datasets']): ResourceFile['datasets'] {
  const byName = new Map(datasets.map((d) => [d.datasetName, d]));
  const done = new Set<string>();
  const out: ResourceFile['datasets'] = [];
  const visit = (name: string, path: string[]) => {
    if (done.has(name) || !byName.has(name)) return;
    if (path.includes(name)) throw new ApplyError(`datasets ${[...path, name].join(' → ')} trigger each other in a cycle; break the cycle.`);
    for (const trigger of byName.get(name)!.triggers ?? []) if (trigger.dataset) visit(trigger.dataset.name, [...path, name]);
    done.add(name);
    out.push(byName.get(name)!);
  };
  for (const d of datasets) visit(d.datasetName, []);
  return out;
}

async function readIot(iot: SignedFetchOptions, path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await signedFetch(iot, 'GET', path)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof SignedFetchError && error.status === 404) return undefined;
    throw error;
  }
}

async function plan(file: ResourceFile, api: IotAnalyticsFetch, iot: SignedFetchOptions): Promise<Step[]> {
  const steps: Step[] = [];
  const tagsDiffer = async (arn: unknown, desired: Tags) => {
    if (!desired || typeof arn !== 'string') return false;
    const current = await api.listTags(arn);
    return !desired.every((t) => current.some((c) => c.key === t.key && c.value === t.value));
  };
  const step = (kind: ResourceKind, name: string, current: unknown, changes: string[], create: () => Promise<unknown>, update: () => Promise<unknown>) => {
    const action: PlanAction = current === undefined ? 'create' : changes.length > 0 ? 'update' : 'unchanged';
    const run = async () => {
      if (action === 'create') await create();
      else if (action === 'update') await update();
    };
    steps.push({ kind, name, action, changes: action === 'update' ? changes : [], run });
  };
  const tagUpdate = (arn: unknown, tags: Tags, changes: string[]) => async () => {
    if (changes.includes('tags') && typeof arn === 'string' && tags) await api.tag(arn, tags);
  };

  for (const entry of file.things) {
    const path = `/things/${encodeURIComponent(entry.thingName)}`;
    const current = await readIot(iot, path);
    const changes = current ? differing(current, entry, ['thingTypeName', 'attributes']) : [];
    const body = { thingTypeName: entry.thingTypeName, attributePayload: entry.attributes ? { attributes: entry.attributes, merge: true } : undefined };
    step('thing', entry.thingName, current, changes, () => signedFetch(iot, 'POST', path, body), () => signedFetch(iot, 'PATCH', path, body));
  }
  for (const entry of file.channels) {
    const current = await orNothing(api.describe('channel', entry.channelName));
    const changes = current ? differing({ ...current, channelStorage: current.storage }, entry, ['retentionPeriod', 'channelStorage']) : [];
    if (current && (await tagsDiffer(current.arn, entry.tags))) changes.push('tags');
    step('channel', entry.channelName, current, changes, () => api.create('channel', entry), async () => {
      if (changes.some((c) => c !== 'tags')) {
        await api.update('channel', entry.channelName, { retentionPeriod: entry.retentionPeriod, channelStorage: entry.channelStorage });
      }
      await tagUpdate(current?.arn, entry.tags, changes)();
    });
  }
  for (const entry of file.datastores) {
    const current = await orNothing(api.describe('datastore', entry.datastoreName));
    const changes = current ? differing({ ...current, datastoreStorage: current.storage }, entry, ['retentionPeriod', 'datastoreStorage', 'fileFormatConfiguration', 'datastorePartitions']) : [];
    if (changes.includes('datastorePartitions')) {
      throw new ApplyError(`datastore ${entry.datastoreName}: datastorePartitions differ from the existing datastore and cannot be updated; delete the datastore to change them.`);
    }
    if (current && (await tagsDiffer(current.arn, entry.tags))) changes.push('tags');
    step('datastore', entry.datastoreName, current, changes, () => api.create('datastore', entry), async () => {
      if (changes.some((c) => c !== 'tags')) {
        const { datastoreName, retentionPeriod, datastoreStorage, fileFormatConfiguration } = entry;
        await api.update('datastore', datastoreName, { retentionPeriod, datastoreStorage, fileFormatConfiguration });
      }
      await tagUpdate(current?.arn, entry.tags, changes)();
    });
  }
  for (const entry of file.pipelines) {
    const current = await orNothing(api.describe('pipeline', entry.pipelineName));
    const changes = current ? differing({ pipelineActivities: current.activities }, entry, ['pipelineActivities']) : [];
    if (current && (await tagsDiffer(current.arn, entry.tags))) changes.push('tags');
    step('pipeline', entry.pipelineName, current, changes, () => api.create('pipeline', entry), async () => {
      if (changes.includes('pipelineActivities')) {
        await api.update('pipeline', entry.pipelineName, { pipelineActivities: entry.pipelineActivities });
      }
      await tagUpdate(current?.arn, entry.tags, changes)();
    });
  }
  for (const entry of datasetOrder(file.datasets)) {
    const current = await orNothing(api.describe('dataset', entry.datasetName));
    const fields = ['actions', 'triggers', 'contentDeliveryRules', 'retentionPeriod', 'versioningConfiguration', 'lateDataRules'];
    const changes = current ? differing(current, entry, fields) : [];
    if (current && (await tagsDiffer(current.arn, entry.tags))) changes.push('tags');
    step('dataset', entry.datasetName, current, changes, () => api.create('dataset', entry), async () => {
      if (changes.some((c) => c !== 'tags')) {
        const { tags: _tags, datasetName, ...settings } = entry;
        await api.update('dataset', datasetName, settings);
      }
      await tagUpdate(current?.arn, entry.tags, changes)();
    });
  }
  for (const entry of file.rules) {
    const path = `/rules/${encodeURIComponent(entry.ruleName)}`;
    const current = (await readIot(iot, path)) as { rule?: Record<string, unknown> } | undefined;
    const changes = current ? differing({ topicRulePayload: current.rule }, entry, ['topicRulePayload']) : [];
    const tagging = entry.tags?.map((t) => `${encodeURIComponent(t.key)}=${encodeURIComponent(t.value)}`).join('&');
    step(
      'rule',
      entry.ruleName,
      current,
      changes,
      () => signedFetch(iot, 'POST', path, entry.topicRulePayload, tagging ? { 'x-amz-tagging': tagging } : {}),
      () => signedFetch(iot, 'PATCH', path, entry.topicRulePayload),
    );
  }
  return steps;
}

const SYMBOL: Record<PlanAction, string> = { create: '+', update: '~', unchanged: '=' };

export function formatPlan(entries: readonly PlanEntry[]): string[] {
  const lines = entries.map((e) => `  ${SYMBOL[e.action]} ${e.kind} ${e.name}${e.action === 'update' ? ` (update: ${e.changes.join(', ')})` : e.action === 'create' ? ' (create)' : ''}`);
  const count = (a: PlanAction) => entries.filter((e) => e.action === a).length;
  lines.push(`${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged.`);
  return lines;
}

/** Reads FILE, prints the plan, and (unless dryRun) carries it out against the API at `endpoint`. */
export async function applyResources(file: string, endpoint: string, credentials: SigningCredentials, options: ApplyOptions = {}): Promise<ApplyReport> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const resources = readResourceFile(file);
  const region = options.region ?? DEFAULT_API_REGION;
  const api = new IotAnalyticsFetch({ endpoint, credentials, region });
  const ruleApi: SignedFetchOptions = { endpoint, credentials, region, service: IOT_SIGNING_NAME };
  const steps = await plan(resources, api, ruleApi).catch((error: unknown) => {
    throw error instanceof ApplyError ? error : new ApplyError(`cannot read the current resources from ${endpoint}: ${describe(error)}`);
  });
  const entries = steps.map(({ run: _run, ...entry }) => entry);
  print(`Plan for ${file} against ${endpoint}:`);
  for (const line of formatPlan(entries)) print(line);
  if (options.dryRun) return { entries, applied: false };
  for (const step of steps) {
    if (step.action === 'unchanged') continue;
    try {
      await step.run();
    } catch (error) {
      throw new ApplyError(`${step.action} ${step.kind} ${step.name} failed: ${describe(error)}; the steps before it were applied.`);
    }
    print(`  ${SYMBOL[step.action]} ${step.kind} ${step.name}: ${step.action === 'create' ? 'created' : 'updated'}`);
  }
  print('Applied.');
  return { entries, applied: true };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}
