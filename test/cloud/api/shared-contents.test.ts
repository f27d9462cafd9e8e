import {
  BatchPutMessageCommand,
  CreateDatasetCommand,
  CreateDatasetContentCommand,
  DeleteDatasetContentCommand,
  GetDatasetContentCommand,
} from '@aws-sdk/client-iotanalytics';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Postgres, hasPostgres } from '../helpers/postgres.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';
import { createReadingsFlow } from './readings-flow.ts';

// Issue 12: the API is stateless across engines. A dataset content that engine A made is downloaded
// through engine B's API (its own signed dataURI), byte for byte, on one PostgreSQL database and on one
// SQLite folder. On the old code each engine kept content CSVs under its own dataDir/content, so B
// answered 404 on PostgreSQL.

let server: Postgres | undefined;
afterAll(async () => server?.stop(), 60_000);

/** Two engines sharing one database: the same PostgreSQL URL, or the same SQLite dataDir. */
async function twoEngines(backend: 'SQLite' | 'PostgreSQL'): Promise<{ a: TestCloud; b: TestCloud; bodies(): Promise<string[]>; stop(): Promise<void> }> {
  let cloud: { storage: string } | { dataDir: string };
  let shared: string | undefined;
  if (backend === 'PostgreSQL') {
    server ??= await Postgres.start();
    cloud = { storage: await server.createDatabase('shared') };
  } else {
    shared = mkdtempSync(join(tmpdir(), 'hedgerow-shared-'));
    cloud = { dataDir: shared };
  }
  const a = await startTestCloud({ cloud });
  const b = await startTestCloud({ cloud });
  return {
    a,
    b,
    /** The versions that have a body in the database itself, whichever backend. */
    async bodies() {
      if ('dataDir' in cloud) {
        const db = new Database(join(cloud.dataDir, 'catalog.sqlite'), { readonly: true });
        const rows = db.prepare('SELECT DISTINCT version FROM content_chunks ORDER BY version').pluck().all() as string[];
        db.close();
        return rows;
      }
      const client = new pg.Client({ connectionString: cloud.storage });
      await client.connect();
      const { rows } = await client.query<{ version: string }>('SELECT DISTINCT version FROM content_chunks ORDER BY version');
      await client.end();
      return rows.map((r) => r.version);
    },
    async stop() {
      await b.stop();
      await a.stop();
      if (shared) rmSync(shared, { recursive: true, force: true });
    },
  };
}

async function download(t: TestCloud, datasetName: string, versionId: string): Promise<{ status: number; body: Buffer }> {
  const content = await t.client.send(new GetDatasetContentCommand({ datasetName, versionId }));
  const response = await fetch(content.entries![0]!.dataURI!);
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
}

describe.each(['SQLite', 'PostgreSQL'] as const)('dataset contents shared by two engines on %s', (backend) => {
  it.runIf(backend === 'SQLite' || hasPostgres())('serves a content made by engine A through engine B, byte-identical, and deletes its body for both (DeleteDatasetContent, retention)', async () => {
    const { a, b, bodies, stop } = await twoEngines(backend);
    try {
      await createReadingsFlow(a.client);
      // About 1.4 MB of CSV, so the body spans two 1 MiB chunks; accents check the bytes are not re-encoded.
      for (let batch = 0; batch < 2; batch++) {
        const messages = Array.from({ length: 100 }, (_, i) => {
          const n = batch * 100 + i;
          return { messageId: `m${n}`, payload: Buffer.from(JSON.stringify({ n, note: `Hédgerow ${n} `.repeat(500) })) };
        });
        await a.client.send(new BatchPutMessageCommand({ channelName: 'readings', messages }));
      }
      await a.cloud.engine.idle();
      await a.client.send(new CreateDatasetCommand({ datasetName: 'notes', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT n, note FROM readings_store ORDER BY n' } }] }));
      const { versionId } = await a.client.send(new CreateDatasetContentCommand({ datasetName: 'notes' }));
      await a.cloud.engine.idle();

      const fromA = await download(a, 'notes', versionId!);
      expect(fromA.status).toBe(200);
      expect(fromA.body.length).toBeGreaterThan(1024 * 1024);
      expect(fromA.body.toString('utf8').split('\r\n').length).toBe(1 + 200 + 1);

      const fromB = await download(b, 'notes', versionId!);
      expect(fromB.status).toBe(200);
      expect(fromB.body.equals(fromA.body)).toBe(true);

      // Deleted through B: A's fresh link finds nothing either (the body went with the version).
      const link = (await a.client.send(new GetDatasetContentCommand({ datasetName: 'notes', versionId: versionId! }))).entries![0]!.dataURI!;
      await b.client.send(new DeleteDatasetContentCommand({ datasetName: 'notes', versionId: versionId! }));
      const gone = await fetch(link);
      expect(gone.status).toBe(404);
      expect(await gone.text()).toMatch(/has no content file .*it may have expired/);
      expect(await bodies()).toEqual([]);

      // Retention on either engine deletes the bodies of the versions it removes.
      const kept = new CreateDatasetCommand({
        datasetName: 'kept',
        actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) AS n FROM readings_store' } }],
        versioningConfiguration: { maxVersions: 1 },
      });
      await a.client.send(kept);
      const versions: string[] = [];
      for (const t of [a, b, a]) {
        versions.push((await t.client.send(new CreateDatasetContentCommand({ datasetName: 'kept' }))).versionId!);
        await t.cloud.engine.idle();
      }
      expect(await bodies()).toEqual([versions[2]]);
      expect((await download(b, 'kept', versions[2]!)).body.toString()).toBe('n\r\n200\r\n');
    } finally {
      await stop();
    }
  }, 120_000);
});
