import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hedgerowSettings } from '../../../bin/hedgerow-settings.ts';
import { ConfigError, parseSettings, readConfigFile } from '../../../hardware/core/config-file.ts';

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('no ConfigError');
}

const file = (text: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'hedgerow-config-file-')), 'hedgerow.yaml');
  writeFileSync(path, text);
  return path;
};

describe('config errors say what is wrong once, and what to do', () => {
  it('a YAML syntax error: the location once, a clean message, the line, and what to do', () => {
    const [problem, ...rest] = problemsOf(() => readConfigFile(file('station:\n  id: north-field\n  interval: [5\nhardware:\n  mode: virtual\n')));
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^not valid YAML\/JSON at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a \] \(the line reads: "hardware:"\)\. Fix that line or the one above it: indent with spaces, close every \[ \{ and quote$/);
    expect(problem!.match(/line \d+, column \d+/g)).toHaveLength(1);
    expect(problem).not.toMatch(/:\s*$/);
    expect(problemsOf(() => readConfigFile(file('station:\n  id: "north-field\n')))[0]).toMatch(/^not valid YAML\/JSON at line \d+, column \d+: Missing closing "quote\. Fix/);
  });

  it('an unknown top-level key: "did you mean", and no echo of defaults the user never wrote', () => {
    const problems = problemsOf(() => parseSettings(hedgerowSettings, { stations: { id: 'x' }, hardwre: { mode: 'virtual' }, station: {} }, 'hedgerow.yaml'));
    expect(problems).toEqual(['unknown top-level key "stations"; did you mean "station"?', 'unknown top-level key "hardwre"; did you mean "hardware"?']);
    expect(problems.join('\n')).not.toMatch(/got|\{/);
  });

  it('an unknown nested key: "did you mean" the key of that section, or the keys there are when none is close', () => {
    expect(problemsOf(() => parseSettings(hedgerowSettings, { station: { intervall: 60 } }, 's'))).toEqual(['station: unknown key "intervall"; did you mean "interval"?']);
    expect(problemsOf(() => parseSettings(hedgerowSettings, { uplink: { tls: { cerf: 'x.pem' } } }, 's'))).toEqual(['uplink.tls: unknown key "cerf"; did you mean "cert"?']);
    const far = problemsOf(() => parseSettings(hedgerowSettings, { api: { zzzzzz: 1 } }, 's'));
    expect(far).toEqual([expect.stringMatching(/^api: unknown key "zzzzzz"; remove it, or use one of "port", "host", /)]);
  });

  it('a wrong value still names the key and the value written', () => {
    expect(problemsOf(() => parseSettings(hedgerowSettings, { hardware: { mode: 'pi' } }, 's'))).toEqual([expect.stringMatching(/^hardware\.mode: .*\(got "pi"\)$/)]);
  });
});

describe('config errors never show a secret', () => {
  it('a too-short secret access key is named by its length, not its value', () => {
    const problems = problemsOf(() => parseSettings(hedgerowSettings, { api: { accessKeys: [{ accessKeyId: 'AKIDSCHOOL', secretAccessKey: 'hunter2-short' }] } }, 'hedgerow.yaml'));
    const problem = problems.find((p) => p.includes('secretAccessKey'));
    expect(problem).toMatch(/secretAccessKey: use at least 16 characters.*\(got a secret of 13 characters, not shown\)/);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('the password inside a URL becomes ***, the rest of the URL stays for the user to fix', async () => {
    const { z } = await import('zod');
    const schema = z.object({ storage: z.string().regex(/^sqlite$/, 'use sqlite') });
    const [problem] = problemsOf(() => parseSettings(schema, { storage: 'postgres://engine:s3cr3t@db.school:5432/hedgerow' }, 'cloud.yaml'));
    expect(problem).toBe('storage: use sqlite (got "postgres://engine:***@db.school:5432/hedgerow")');
  });
});
