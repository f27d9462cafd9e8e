import { readFileSync } from 'node:fs';
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
    if (error instanceof YAMLParseError) {
      const at = error.linePos?.[0];
      throw new ConfigError(path, [`not valid YAML/JSON${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${error.message.split('\n')[0]}`]);
    }
    throw error;
  }
}

/** Parses raw settings with a zod schema, turning every issue into "key: message (got value)". */
export function parseSettings<S extends z.ZodType>(schema: S, raw: unknown, source: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    const got = valueAt(raw, issue.path);
    const shown = got === undefined ? '' : ` (got ${JSON.stringify(got)})`;
    return `${key}: ${issue.message}${shown}`;
  });
  throw new ConfigError(source, problems);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
