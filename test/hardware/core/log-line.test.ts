import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../../hardware/core/log-line.ts';

const LOGGER = join(import.meta.dirname, '../../../hardware/core/logger.ts');

/** Logs a few events through createLogger in a child process (the pretty stream writes to stdout) and returns what it printed. */
function printed(level: string, env: Record<string, string> = {}): string {
  const script = `
    import { createLogger } from ${JSON.stringify(LOGGER)};
    const log = createLogger(${JSON.stringify(level === 'env' ? {} : { level })});
    log.child({ part: 'cloud' }).info({ file: 'data/cloud/api-credentials.json', created: ['channel/a', 'dataset/b'], nested: { a: 1 } }, 'created resources from file');
    log.child({ part: 'uplink', station: 'hilltop' }).warn({ err: new Error('connect ECONNREFUSED 127.0.0.1:1883') }, 'uplink offline');
    log.info('plain line');
    log.debug({ detail: { deep: true } }, 'a debug line');
  `;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HEDGEROW_LOG_FORMAT: '', HEDGEROW_LOG_LEVEL: '', ...env },
  });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout;
}

describe('formatLogLine', () => {
  it('reads "part station: message (scalar fields)"', () => {
    expect(formatLogLine({ level: 30, time: 1, pid: 9, hostname: 'pi', part: 'uplink', station: 'riverside', msg: 'connected', url: 'mqtt://x', depth: 3 })).toBe(
      'uplink riverside: connected (url mqtt://x, depth 3)',
    );
    expect(formatLogLine({ msg: 'plain' })).toBe('plain');
  });

  it('leaves objects and arrays out, and shows an error by its message, never its stack', () => {
    const err = { type: 'Error', message: 'no such file', stack: 'Error: no such file\n    at x (y.ts:1:1)' };
    const line = formatLogLine({ part: 'museum', msg: 'reader failed', err, ids: ['a', 'b'], nested: { a: 1 } });
    expect(line).toBe('museum: reader failed: no such file');
    expect(formatLogLine({ msg: 'failed: no such file', err })).toBe('failed: no such file');
  });

  it('cuts a long string field', () => {
    expect(formatLogLine({ msg: 'm', sql: 'x'.repeat(500) }).length).toBeLessThan(140);
  });
});

describe('createLogger pretty output', () => {
  it('prints one short line per event at info: no JSON tail, no stack, one line each', () => {
    const out = printed('info');
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: cloud: created resources from file \(file data\/cloud\/api-credentials\.json\)$/);
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: uplink hilltop: uplink offline: connect ECONNREFUSED 127\.0\.0\.1:1883$/);
    expect(lines[2]).toMatch(/INFO: plain line$/);
    expect(out).not.toMatch(/[{}]|"part"|at .*:\d+:\d+/);
  });

  it('shows the fields (and the error in full) at debug', () => {
    const out = printed('debug');
    expect(out).toMatch(/created resources from file .*"created":\["channel\/a","dataset\/b"\]/);
    expect(out).toMatch(/"stack":/);
    expect(out).toMatch(/DEBUG: a debug line .*"deep":true/);
  });

  it('takes HEDGEROW_LOG_LEVEL when no level is given', () => {
    const out = printed('env', { HEDGEROW_LOG_LEVEL: 'warn' });
    expect(out).not.toMatch(/INFO/);
    expect(out).toMatch(/WARN: uplink hilltop/);
  });
});
