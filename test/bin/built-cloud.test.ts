import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchPutMessageCommand, CreateDatasetContentCommand, DescribeDatastoreCommand, GetDatasetContentCommand, IoTAnalyticsClient,
} from '@aws-sdk/client-iotanalytics';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_KEY } from '../cloud/api/helpers.ts';

/**
 * `hedgerow cloud` run by the real command from the build in dist/: the parts that find files next to
 * their module (the dataset query process, the lambda worker, resource files named relative to the
 * package) work there as they do from the sources.
 */

const CLI = join(import.meta.dirname, '../../bin/hedgerow.js');
const running: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The command lines of a process's children (the kernel's view, so no guess about what started them). */
function childCommands(pid: number): string[] {
  const commands: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) commands.push(readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim());
    } catch {
      // The process ended while we looked.
    }
  }
  return commands;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('hedgerow cloud from the build in dist/', () => {
  it('creates the default resources, runs a TypeScript lambda (.mts: the temp folder is outside an ESM package) and a dataset query, each from its compiled file', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-built-cloud-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'lambda'));
    writeFileSync(join(dir, 'lambda/double.mts'), 'export default (messages: { n: number }[]) => messages.map((m) => ({ ...m, doubled: m.n * 2 }));\n');
    writeFileSync(
      join(dir, 'flow.json'),
      JSON.stringify({
        channels: [{ channelName: 'numbers' }],
        datastores: [{ datastoreName: 'numbers_store' }],
        pipelines: [
          {
            pipelineName: 'numbers_pipeline',
            pipelineActivities: [
              { channel: { name: 'in', channelName: 'numbers', next: 'double' } },
              { lambda: { name: 'double', lambdaName: 'double', batchSize: 10, next: 'out' } },
              { datastore: { name: 'out', datastoreName: 'numbers_store' } },
            ],
          },
        ],
        datasets: [{ datasetName: 'doubled', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT n, doubled FROM numbers_store ORDER BY n' } }] }],
      }),
    );
    const port = await freePort();
    writeFileSync(
      join(dir, 'cloud.json'),
      JSON.stringify({
        // The default resource file is named relative to the package: found from the build's folder too.
        cloud: { dataDir: join(dir, 'data'), lambdaDir: join(dir, 'lambda'), resourceFiles: ['cloud/resources/default.json', join(dir, 'flow.json')], mqtt: { enabled: false } },
        api: { port, accessKeys: [TEST_KEY] },
      }),
    );
    const child = spawn(process.execPath, [CLI, '--config', 'cloud.json', '--log-format', 'json', 'cloud'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    await until('the API listening', async () => (out.includes('IoT Analytics API listening') ? true : child.exitCode === null ? undefined : Promise.reject(new Error(`hedgerow exited:\n${out}\n${err}`))));
    // No "through tsx" line: the command found (or made) a fresh build.
    expect(err).toBe('');

    const client = new IoTAnalyticsClient({ endpoint: `http://127.0.0.1:${port}`, region: 'eu-west-1', credentials: { ...TEST_KEY }, maxAttempts: 1 });
    try {
      expect((await client.send(new DescribeDatastoreCommand({ datastoreName: 'weather_datastore' }))).datastore?.name).toBe('weather_datastore');
      const messages = [1, 2, 3].map((n) => ({ messageId: `m${n}`, payload: Buffer.from(JSON.stringify({ n })) }));
      const put = await client.send(new BatchPutMessageCommand({ channelName: 'numbers', messages }));
      expect(put.batchPutMessageErrorEntries).toEqual([]);
      const rows = await until('three doubled rows in the dataset', async () => {
        await client.send(new CreateDatasetContentCommand({ datasetName: 'doubled' }));
        const got = await client.send(new GetDatasetContentCommand({ datasetName: 'doubled', versionId: '$LATEST' }));
        if (got.status?.state !== 'SUCCEEDED') return undefined;
        const csv = await (await fetch(got.entries![0]!.dataURI!)).text();
        const lines = csv.trim().split(/\r?\n/).map((line) => line.replaceAll('"', ''));
        return lines.length === 4 ? lines : undefined;
      }).catch((error: Error) => Promise.reject(new Error(`${error.message}\n${out}`)));
      expect(rows).toEqual(['n,doubled', '1,2', '2,4', '3,6']);
    } finally {
      client.destroy();
    }
    // The query process is the build's compiled entry point, run by plain node (no tsx runner).
    const query = childCommands(child.pid!).find((command) => command.includes('sqlite-query-process'));
    expect(query).toMatch(/ \S*\/dist\/[0-9a-f]{16}\/sqlite-query-process\.js$/);
    expect(query).not.toMatch(/run-ts/);
  });
});
