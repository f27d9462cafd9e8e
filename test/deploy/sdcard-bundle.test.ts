import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flashedCard, sdcard } from './sdcard-card.ts';

// --bundle fills an npm cache on the card from the registry (on the laptop, which has the internet); the
// Pi's first boot then runs npm ci --offline from it (firstboot.sh sets npm_config_offline).
describe('deploy.sh sdcard --bundle', () => {
  it("puts an npm cache on the card from which npm ci --offline installs every production package", { timeout: 600_000 }, () => {
    const boot = flashedCard('bookworm');
    const run = sdcard(boot, '--station-id', 'field-9', '--bundle');
    expect(run.status, run.stderr).toBe(0);
    const cache = join(boot, 'hedgerow/npm-cache');
    expect(existsSync(join(cache, '.complete'))).toBe(true);
    const app = mkdtempSync(join(tmpdir(), 'hedgerow-offline-'));
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(boot, 'hedgerow/src', file), join(app, file));
    const offline = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: app,
      env: { ...process.env, npm_config_cache: cache, npm_config_offline: 'true' },
      encoding: 'utf8',
      timeout: 300_000,
      killSignal: 'SIGKILL',
    });
    expect(offline.status, offline.stderr).toBe(0);
    for (const name of ['better-sqlite3', 'mqtt', 'fastify', 'yaml', 'zod']) expect(existsSync(join(app, 'node_modules', name, 'package.json')), name).toBe(true);
    expect(sdcard(boot, '--station-id', 'field-9', '--bundle').stdout).toMatch(/nothing to change/);
  });
});
