import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PACKAGE_ROOT } from './code-location.ts';
import type {
  CreateChannelRequest, CreateDatasetRequest, CreateDatastoreRequest, CreatePipelineRequest, CreateTopicRuleRequest, Engine, Thing,
} from './engine.ts';
import { InvalidRequestException, ResourceAlreadyExistsException } from './errors.ts';

/**
 * Declarative resource files (cloud/resources/*.json or .yaml): lists of Create* request bodies, in
 * the shapes of the API, `{ channels, datastores, pipelines, rules, datasets, things }`. At start the
 * engine creates what is missing and leaves existing resources as they are (an operator's changes
 * win); `hedgerow cloud apply` is the tool that also updates.
 */

export interface ResourceFile {
  channels: CreateChannelRequest[];
  datastores: CreateDatastoreRequest[];
  pipelines: CreatePipelineRequest[];
  rules: CreateTopicRuleRequest[];
  datasets: CreateDatasetRequest[];
  things: Thing[];
}

const list = z.array(z.record(z.string(), z.unknown())).default([]);
const fileSchema = z
  .object({ channels: list, datastores: list, pipelines: list, rules: list, datasets: list, things: list, $comment: z.string().optional() })
  .strict();

export function resolveResourcePath(file: string): string {
  if (isAbsolute(file) || existsSync(file)) return resolve(file);
  return resolve(PACKAGE_ROOT, file);
}

export function readResourceFile(file: string): ResourceFile {
  const path = resolveResourcePath(file);
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestException(`Resource file ${path} cannot be read: ${error instanceof Error ? error.message : String(error)}.`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidRequestException(`Resource file ${path}: ${issue.path.join('.') || 'top level'}: ${issue.message} (keys: channels, datastores, pipelines, rules, datasets, things).`);
  }
  return parsed.data as unknown as ResourceFile;
}

/** Creates the file's resources that do not exist yet, in dependency order; returns the names created. */
export async function applyResourceFile(engine: Engine, file: string, log: Logger): Promise<string[]> {
  const resources = readResourceFile(file);
  const created: string[] = [];
  const create = async (kind: string, name: string, action: () => Promise<unknown>) => {
    try {
      await action();
      created.push(`${kind}/${name}`);
    } catch (error) {
      if (!(error instanceof ResourceAlreadyExistsException)) throw error;
    }
  };
  for (const r of resources.channels) await create('channel', r.channelName, () => engine.createChannel(r));
  for (const r of resources.datastores) await create('datastore', r.datastoreName, () => engine.createDatastore(r));
  for (const r of resources.pipelines) await create('pipeline', r.pipelineName, () => engine.createPipeline(r));
  for (const r of resources.rules) await create('rule', r.ruleName, () => engine.createTopicRule(r));
  for (const r of resources.datasets) await create('dataset', r.datasetName, () => engine.createDataset(r));
  for (const t of resources.things) {
    const known = await engine.describeThing({ thingName: t.thingName }).then(() => true, () => false);
    if (!known) await create('thing', t.thingName, () => engine.putThing(t));
  }
  if (created.length > 0) log.info({ file, created }, 'created resources from file');
  return created;
}
