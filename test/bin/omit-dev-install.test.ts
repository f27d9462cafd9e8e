import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY } from '../cloud/api/helpers.ts';

/**
 * `hedgerow cloud apply` from a production install, as deploy.sh makes one (`npm ci --omit=dev`):
 * no devDependency may be loaded at run time (issue 9, defect 6: apply once imported
 * @aws-sdk/client-iotanalytics, a devDependency, and failed on every installed engine).
 *
 * The install is a copy of the tracked files with node_modules hard-linked from this checkout's, pruned
 * there by `npm prune --omit=dev --offline`: no network, and seconds instead of a full `npm ci`. The
 * shared node_modules is only read (hard links are new names for its files; prune unlinks names).
 */

const REPO = join(import.meta.dirname, '../..');
const DEV_ONLY = ['@aws-sdk/client-iotanalytics', 'vitest', 'typescript'];
/** A child that hangs (a server that never listens, npm waiting on something) is killed, not waited on. */
const CHILD_LIMIT_MS = 120_000;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: CHILD_LIMIT_MS, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}\n${result.stdout}\n${result.stderr}`);
  return result;
}

const realModules = realpathSync(join(REPO, 'node_modules'));
const sharedLock = join(realModules, '.package-lock.json');
let sharedLockHash = '';
let dir = '';
let app = '';
let server: ChildProcess | undefined;

/**
 * The tracked files as they are in the working tree (so an uncommitted edit is tested too), and
 * node_modules as hard links: pruning unlinks the copy's names and leaves the shared tree alone.
 */
function makeProductionInstall(): void {
  const listed = run('git', ['ls-files', '-z'], REPO);
  expect(listed.status, listed.stderr).toBe(0);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    const from = join(REPO, file);
    // A tracked file deleted in the working tree is not part of what we test.
    if (!existsSync(from)) continue;
    mkdirSync(dirname(join(app, file)), { recursive: true });
    copyFileSync(from, join(app, file));
  }
  const modules = join(app, 'node_modules');
  mkdirSync(modules);
  // Not linked: npm rewrites .package-lock.json in place, which through a hard link would rewrite the
  // shared one (the copy gets its own file), and vitest's caches come and go while other runs use them.
  const entries = readdirSync(realModules).filter((name) => name !== '.package-lock.json' && !name.startsWith('.vite') && name !== '.cache');
  const linked = run('cp', ['-al', '-t', modules, ...entries.map((name) => join(realModules, name))], REPO);
  expect(linked.status, linked.stderr).toBe(0);
  if (existsSync(sharedLock)) copyFileSync(sharedLock, join(modules, '.package-lock.json'));
  // Only npm's own settings, none inherited from an `npm test` that started us (npm_config_*).
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  const pruned = run(
    'npm',
    ['prune', '--omit=dev', '--no-audit', '--no-fund', '--offline', '--ignore-scripts'],
    app,
    { ...env, npm_config_cache: join(dir, 'npm-cache'), npm_config_update_notifier: 'false' },
  );
  expect(pruned.status, `${pruned.stdout}\n${pruned.stderr}`).toBe(0);
}

/** Starts `hedgerow cloud` from the copy, in its own process group so afterAll can kill what it started too. */
async function startServer(port: number, env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(
    process.execPath,
    [join(app, 'bin/hedgerow.js'), '--config', join(dir, 'cloud.json'), '--log-format', 'json', 'cloud', '--port', String(port), '--data', join(dir, 'data')],
    { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, timeout: CHILD_LIMIT_MS, killSignal: 'SIGKILL' },
  );
  server = child;
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (out.includes('IoT Analytics API listening')) {
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`hedgerow cloud ended (${signal ?? `exit ${code}`}) before listening:\n${out}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

describe('hedgerow from an npm ci --omit=dev install', () => {
  let port = 0;
  let env: NodeJS.ProcessEnv = {};

  beforeAll(() => {
    sharedLockHash = existsSync(sharedLock) ? sha256(sharedLock) : '';
    dir = mkdtempSync(join(tmpdir(), 'hedgerow-omit-dev-'));
    app = join(dir, 'app');
    mkdirSync(app);
  });

  afterAll(() => {
    if (server?.pid !== undefined) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // The group has ended already.
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has no devDependencies installed, and the shared node_modules keeps them', { timeout: 180_000 }, () => {
    makeProductionInstall();
    for (const name of DEV_ONLY) expect(existsSync(join(app, 'node_modules', name)), `${name} in the production install`).toBe(false);
    for (const name of DEV_ONLY) expect(existsSync(join(realModules, name)), `${name} in the shared node_modules`).toBe(true);
    if (sharedLockHash) expect(sha256(sharedLock)).toBe(sharedLockHash);
  });

  it('runs `hedgerow cloud apply` against `hedgerow cloud`: creates a channel, datastore, pipeline and dataset, then finds them unchanged', { timeout: 240_000 }, async () => {
    expect(existsSync(join(app, 'node_modules/esbuild')), 'the production install (made by the test above)').toBe(true);
    port = await freePort();
    // Keys from the environment, as an operator gives them; no MQTT broker to reach.
    env = { ...process.env, HEDGEROW_ACCESS_KEY_ID: TEST_KEY.accessKeyId, HEDGEROW_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey };
    delete env.HEDGEROW_FROM_SOURCE;
    writeFileSync(join(dir, 'cloud.json'), JSON.stringify({ cloud: { mqtt: { enabled: false } } }));
    writeFileSync(
      join(dir, 'resources.json'),
      JSON.stringify({
        channels: [{ channelName: 'omit_dev_channel' }],
        datastores: [{ datastoreName: 'omit_dev_store' }],
        pipelines: [
          {
            pipelineName: 'omit_dev_pipeline',
            pipelineActivities: [
              { channel: { name: 'in', channelName: 'omit_dev_channel', next: 'out' } },
              { datastore: { name: 'out', datastoreName: 'omit_dev_store' } },
            ],
          },
        ],
        datasets: [{ datasetName: 'omit_dev_dataset', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT * FROM omit_dev_store' } }] }],
      }),
    );
    // The first run builds dist/ in the copy (esbuild is a dependency), then serves from the build.
    await startServer(port, env);

    const apply = () =>
      run(process.execPath, [join(app, 'bin/hedgerow.js'), '--config', join(dir, 'cloud.json'), 'cloud', 'apply', '--endpoint', `http://127.0.0.1:${port}`, join(dir, 'resources.json')], app, env);
    /** The plan's lines: between its heading and the count line (the steps carried out come after). */
    const plan = (stdout: string) => {
      const lines = stdout.split('\n');
      const start = lines.findIndex((line) => line.startsWith('Plan for '));
      const end = lines.findIndex((line) => / to create, \d+ to update, \d+ unchanged\.$/.test(line));
      return start >= 0 && end > start ? lines.slice(start + 1, end) : [`no plan in: ${stdout}`];
    };

    const first = apply();
    expect(first.status, `${first.stdout}\n${first.stderr}`).toBe(0);
    // Nothing on stderr: the command ran the build in dist/ (no tsx fallback line) and loaded every module.
    expect(first.stderr).toBe('');
    expect(plan(first.stdout)).toEqual([
      '  + channel omit_dev_channel (create)',
      '  + datastore omit_dev_store (create)',
      '  + pipeline omit_dev_pipeline (create)',
      '  + dataset omit_dev_dataset (create)',
    ]);
    expect(first.stdout).toContain('4 to create, 0 to update, 0 unchanged.');
    expect(first.stdout.trim().split('\n').at(-1)).toBe('Applied.');

    const second = apply();
    expect(second.status, `${second.stdout}\n${second.stderr}`).toBe(0);
    expect(plan(second.stdout)).toEqual([
      '  = channel omit_dev_channel',
      '  = datastore omit_dev_store',
      '  = pipeline omit_dev_pipeline',
      '  = dataset omit_dev_dataset',
    ]);
    expect(second.stdout).toContain('0 to create, 0 to update, 4 unchanged.');
  });
});
