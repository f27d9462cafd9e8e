import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';
import { modelFacts, modelPattern } from '../../../cloud/model/common.ts';

/**
 * Compares zod schemas with botocore's service-2.json, shape by shape: member names, required members,
 * types and constraints. Each difference is one line, `in|out Shape.member: what`, so a table of
 * deliberate differences can name it exactly.
 */

export const MODEL_PATH = '/usr/lib/python3/dist-packages/botocore/data/iotanalytics/2017-11-27/service-2.json';

interface ModelMember {
  shape: string;
}
export interface ModelShape {
  type: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  required?: string[];
  members?: Record<string, ModelMember>;
  member?: ModelMember;
  key?: ModelMember;
  value?: ModelMember;
}
export interface ServiceModel {
  operations: Record<string, { input?: { shape: string }; output?: { shape: string } }>;
  shapes: Record<string, ModelShape>;
}

export function loadModel(path = MODEL_PATH): ServiceModel {
  if (!existsSync(path)) {
    throw new Error(`botocore's IoT Analytics model is missing at ${path}; install it with test/setup.sh (Debian python3-botocore, via awscli or python3-boto3).`);
  }
  return JSON.parse(readFileSync(path, 'utf8')) as ServiceModel;
}

/** A type in the model's terms, with its constraints, read from a zod schema. */
interface Described {
  type: string;
  min?: number;
  max?: number;
  pattern?: string;
  values?: string[];
  schema: z.ZodType;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  entries?: Record<string, string>;
  values?: unknown[];
  checks?: { _zod: { def: { check: string; minimum?: number; maximum?: number; value?: number; inclusive?: boolean; format?: string; pattern?: RegExp } } }[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'nonoptional']);

/** Whether an object member may be left out. */
function isOptional(schema: z.ZodType): boolean {
  const type = defOf(schema).type;
  return type === 'optional' || type === 'default' || type === 'prefault';
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const facts = modelFacts.get(current);
    if (facts?.type || facts?.refused) return current;
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

function describe(schema: z.ZodType): Described {
  const inner = unwrap(schema);
  const facts = modelFacts.get(inner);
  if (facts?.refused) return { type: 'refused', schema: inner };
  if (facts?.type) return { type: facts.type, schema: inner };
  const def = defOf(inner);
  const out: Described = { type: def.type, schema: inner };
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    if (c.check === 'min_length') out.min = c.minimum;
    if (c.check === 'max_length') out.max = c.maximum;
    if (c.check === 'string_format' && c.format === 'regex' && c.pattern && out.pattern === undefined) out.pattern = c.pattern.source;
    if (c.check === 'number_format' && (c.format === 'safeint' || c.format === 'int32')) out.type = 'integer';
    if (c.check === 'greater_than') out.min = c.inclusive ? c.value : (c.value ?? 0) + 1;
    if (c.check === 'less_than') out.max = c.inclusive ? c.value : (c.value ?? 0) - 1;
  }
  if (def.type === 'number' && out.type === 'number') out.type = 'double';
  if (def.type === 'object') out.type = 'structure';
  if (def.type === 'array') out.type = 'list';
  if (def.type === 'record') {
    out.type = 'map';
    out.min = facts?.min;
    out.max = facts?.max;
  }
  if (def.type === 'date') out.type = 'timestamp';
  if (def.type === 'never') out.type = 'refused';
  if (def.type === 'enum') {
    out.type = 'enum';
    out.values = Object.values(def.entries ?? {}).sort();
  }
  if (def.type === 'literal') {
    out.type = 'enum';
    out.values = (def.values ?? []).map(String).sort();
  }
  return out;
}

function modelType(shape: ModelShape): string {
  if (shape.type === 'string' && shape.enum) return 'enum';
  if (shape.type === 'long') return 'integer';
  if (shape.type === 'float') return 'double';
  return shape.type;
}

/** Lists and strings with min 0 have no lower limit. */
const lower = (n: number | undefined, type: string) => (n === 0 && type !== 'integer' && type !== 'double' ? undefined : n);

export function compareShapes(model: ServiceModel, direction: 'in' | 'out', shapeName: string, schema: z.ZodType, found: Set<string>): void {
  const seen = new Set<string>();
  const walk = (name: string, zod: z.ZodType, at: string) => {
    const shape = model.shapes[name];
    if (!shape) throw new Error(`service-2.json has no shape ${name}`);
    const key = `${name}@${at}`;
    if (seen.has(key)) return;
    seen.add(key);
    const d = describe(zod);
    const note = (what: string) => found.add(`${direction} ${at}: ${what}`);
    const type = modelType(shape);
    if (d.type === 'refused') return note('refused');
    if (d.type !== type) return note(`type: the model's ${type}, here ${d.type}`);
    const min = lower(shape.min, type);
    const max = shape.max;
    if (type !== 'structure' && lower(d.min, type) !== min) note(`min: the model's ${min ?? 'none'}, here ${lower(d.min, type) ?? 'none'}`);
    if (type !== 'structure' && d.max !== max) note(`max: the model's ${max ?? 'none'}, here ${d.max ?? 'none'}`);
    if (type === 'string') {
      const expected = shape.pattern === undefined ? undefined : [shape.pattern, modelPattern(shape.pattern).source];
      if (expected === undefined ? d.pattern !== undefined : d.pattern === undefined || !expected.includes(d.pattern)) {
        note(`pattern: the model's ${shape.pattern ?? 'none'}, here ${d.pattern ?? 'none'}`);
      }
    }
    if (type === 'enum' && JSON.stringify([...(shape.enum ?? [])].sort()) !== JSON.stringify(d.values)) {
      note(`enum: the model's ${[...(shape.enum ?? [])].sort().join('|')}, here ${(d.values ?? []).join('|')}`);
    }
    const def = defOf(d.schema);
    if (type === 'list' && shape.member && def.element) walk(shape.member.shape, def.element, `${at}[]`);
    if (type === 'map' && shape.key && shape.value && def.keyType && def.valueType) {
      walk(shape.key.shape, def.keyType, `${at}{key}`);
      walk(shape.value.shape, def.valueType, `${at}{value}`);
    }
    if (type === 'structure') {
      const members = shape.members ?? {};
      const ours = def.shape ?? {};
      const required = new Set(shape.required ?? []);
      for (const [member, ref] of Object.entries(members)) {
        const where = `${name}.${member}`;
        const zodMember = ours[member];
        if (zodMember === undefined) {
          found.add(`${direction} ${where}: missing`);
          continue;
        }
        if (direction === 'in' && !modelFacts.get(unwrap(zodMember))?.refused) {
          if (required.has(member) && isOptional(zodMember)) found.add(`${direction} ${where}: required in the model, optional here`);
          if (!required.has(member) && !isOptional(zodMember)) found.add(`${direction} ${where}: optional in the model, required here`);
        }
        walk(ref.shape, zodMember, where);
      }
      for (const member of Object.keys(ours)) if (!(member in members)) found.add(`${direction} ${name}.${member}: not in the model`);
    }
  };
  walk(shapeName, schema, shapeName);
}
