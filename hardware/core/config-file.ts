import { readFileSync } from 'node:fs';
import { closest, distance } from 'fastest-levenshtein';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';

/** A config problem the user must fix before anything starts. Each line names the key, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads a YAML or JSON config file (JSON is YAML, so one parser serves both). */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? 'check the path, or leave out --config to run on defaults' : 'check its permissions';
    throw new ConfigError(path, [`cannot read the config file (${code ?? String(error)}): ${hint}`]);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    if (error instanceof YAMLParseError) throw new ConfigError(path, [yamlProblem(error, text)]);
    throw error;
  }
}

/**
 * One clean sentence for a YAML syntax error: where, what, the line itself, and what to do. The yaml
 * package's message repeats the location and ends on a colon that introduces a source excerpt.
 */
function yamlProblem(error: YAMLParseError, text: string): string {
  const at = error.linePos?.[0];
  const what = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?\s*$/, '').replace(/[:.\s]+$/, '');
  const where = at ? ` at line ${at.line}, column ${at.col}` : '';
  const source = at ? text.split(/\r?\n/)[at.line - 1] : undefined;
  const shown = source !== undefined && source.trim() !== '' ? ` (the line reads: ${JSON.stringify(source.trimEnd())})` : '';
  return `not valid YAML/JSON${where}: ${what}${shown}. Fix that line or the one above it: indent with spaces, close every [ { and quote`;
}

/** Parses raw settings with a zod schema, turning every issue into "key: message (got value)". */
export function parseSettings<S extends z.ZodType>(schema: S, raw: unknown, source: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownKey(schema, issue.path, key));
    const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    const got = valueAt(raw, issue.path);
    // The value the user wrote, never a whole section: that would show defaults they never wrote.
    const shown = got === undefined || (got !== null && typeof got === 'object') ? '' : ` (got ${shownValue(issue.path, got)})`;
    return [`${key}: ${issue.message}${shown}`];
  });
  throw new ConfigError(source, problems);
}

/** Key names whose values are secrets: a config error shows their length, never the value. */
const SECRET_KEY = /(pass(word)?|passwd|secret|token|apikey|accesskey|secretaccesskey|privatekey|credentials?)$/i;

/**
 * The value as the error shows it. A config error goes to the terminal and the journal, which other
 * people read: a secret is shown by its length, and a URL's password (postgres://user:pw@host) as ***.
 */
function shownValue(path: readonly PropertyKey[], got: unknown): string {
  const last = path.length > 0 ? String(path[path.length - 1]) : '';
  if (typeof got === 'string' && SECRET_KEY.test(last.replace(/[_-]/g, ''))) return `a secret of ${got.length} characters, not shown`;
  if (typeof got === 'string') return JSON.stringify(maskUrlPassword(got));
  return JSON.stringify(got);
}

/** `scheme://user:password@host...` with the password replaced by ***; any other text unchanged. */
export function maskUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/i, '$1***@');
}

/** "station: unknown key "intervall"; did you mean "interval"?", with the keys allowed there when none is close. */
function unknownKey(schema: z.ZodType, path: readonly PropertyKey[], key: string): string {
  const allowed = keysAt(schema, path);
  const where = path.length > 0 ? `${path.join('.')}: unknown key` : 'unknown top-level key';
  const best = allowed.length > 0 ? closest(key, allowed) : undefined;
  // Close enough to be a typo: a third of the word, and at least two edits for short keys.
  if (best !== undefined && distance(key.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(best.length / 3))) {
    return `${where} "${key}"; did you mean "${best}"?`;
  }
  if (allowed.length === 0) return `${where} "${key}"; remove it`;
  return `${where} "${key}"; remove it, or use one of ${allowed.map((k) => `"${k}"`).join(', ')}`;
}

/** The keys an object schema takes at `path`, looking through defaults, optionals and pipes. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  for (let depth = 0; ; ) {
    const def = (node as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return [];
    if (def.type === 'object') {
      const shape = def.shape as Record<string, unknown>;
      if (depth === path.length) return Object.keys(shape);
      node = shape[String(path[depth++])];
    } else if (def.type === 'record') {
      // A map such as alerts.stations: any key, each value of one schema.
      if (depth === path.length) return [];
      depth++;
      node = def.valueType;
    } else if ('innerType' in def) node = def.innerType;
    else if (def.type === 'pipe') node = def.in;
    else return [];
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
