import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateChannelCommand, IoTAnalyticsClient, ListChannelsCommand, type ListChannelsCommandOutput } from '@aws-sdk/client-iotanalytics';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { GENERATED_KEYS_FILE, type AccessKey } from '../../../cloud/api/api-settings.ts';
import { EVENT_HEADER } from '../../../cloud/alerts/webhook-output.ts';
import { encodeToken, useTokenKey } from '../../../cloud/engine/pagination.ts';
import { TOKEN_KEY_FILE } from '../../../cloud/engine/token-key.ts';
import { weatherDay } from '../dashboard/weather-records.ts';
import { until } from '../fixtures/until.ts';
import { startReceiver, type Receiver } from '../alerts/http-receiver.ts';
import { Postgres, hasPostgres } from '../helpers/postgres.ts';
import { startTestCloud, type TestCloud, type TestCloudOptions } from './cloud-fixture.ts';

/**
 * Two `hedgerow cloud` engines, each with its own data folder, on ONE PostgreSQL database, as behind a
 * load balancer: they accept the same generated API key and each other's nextTokens, agree on one key
 * set when they start at once, and an alert both evaluate is sent once.
 */

let server: Postgres | undefined;
const started = hasPostgres() ? Postgres.start().then((s) => (server = s)) : undefined;
afterAll(async () => {
  await server?.stop();
}, 60_000);

let clouds: TestCloud[] = [];
const clients: IoTAnalyticsClient[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const c of clouds.splice(0)) await c.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An engine on `url` with no configured key: it generates one, or takes the one in the store. */
async function engineOn(url: string, options: TestCloudOptions = {}): Promise<TestCloud> {
  const cloud = await startTestCloud({ ...options, cloud: { storage: url, ...options.cloud }, api: { accessKeys: [] } });
  clouds.push(cloud);
  return cloud;
}

async function stop(cloud: TestCloud): Promise<void> {
  clouds = clouds.filter((c) => c !== cloud);
  await cloud.stop();
}

function clientOf(cloud: TestCloud, key: AccessKey): IoTAnalyticsClient {
  const client = new IoTAnalyticsClient({ endpoint: cloud.cloud.endpoint, region: 'eu-west-1', credentials: { ...key }, maxAttempts: 1 });
  clients.push(client);
  return client;
}

const names = (page: ListChannelsCommandOutput) => (page.channelSummaries ?? []).map((c) => c.channelName);

describe.runIf(hasPostgres())('two engines on one PostgreSQL database', { timeout: 120_000 }, () => {
  it("start at once on an empty database with one generated key and one token key: B takes A's key and continues A's nextToken", async () => {
    const url = await (await started!).createDatabase('shared');
    const [a, b] = await Promise.all([engineOn(url), engineOn(url)]);
    const key = a.cloud.accessKeys[0]!;
    expect(key.accessKeyId).toMatch(/^HEDGEROW[0-9A-F]{12}$/);
    expect(b.cloud.accessKeys).toEqual([key]);
    // Each engine keeps its operator's copy, private as before.
    for (const cloud of [a, b]) {
      const file = join(cloud.dir, GENERATED_KEYS_FILE);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(key);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }

    const viaA = clientOf(a, key);
    for (const channelName of ['c1', 'c2', 'c3']) await viaA.send(new CreateChannelCommand({ channelName }));
    const first = await viaA.send(new ListChannelsCommand({ maxResults: 2 }));
    expect(names(first)).toEqual(['c1', 'c2']);
    // A leaves: its key no longer verifies anything in this process, so B must hold the same one.
    await stop(a);
    const rest = await clientOf(b, key).send(new ListChannelsCommand({ maxResults: 2, nextToken: first.nextToken }));
    expect(names(rest)).toEqual(['c3']);
  });

  it("adopt an upgraded engine's api-credentials.json and token-key file: an engine with a fresh folder accepts its key and its old tokens", async () => {
    const url = await (await started!).createDatabase('upgrade');
    const oldDir = mkdtempSync(join(tmpdir(), 'hedgerow-old-'));
    dirs.push(oldDir);
    const oldKey: AccessKey = { accessKeyId: 'HEDGEROW0123456789AB', secretAccessKey: 'an-older-generated-secret-0123456789' };
    const oldTokenKey = Buffer.alloc(32, 7);
    writeFileSync(join(oldDir, GENERATED_KEYS_FILE), `${JSON.stringify(oldKey)}\n`, { mode: 0o600 });
    writeFileSync(join(oldDir, TOKEN_KEY_FILE), `${oldTokenKey.toString('hex')}\n`, { mode: 0o600 });
    // A nextToken a client got from the engine before its upgrade.
    const release = useTokenKey(oldTokenKey);
    const oldToken = encodeToken('c1');
    release();

    const upgraded = await engineOn(url, { cloud: { dataDir: oldDir } });
    expect(upgraded.cloud.accessKeys).toEqual([oldKey]);
    for (const channelName of ['c1', 'c2']) await clientOf(upgraded, oldKey).send(new CreateChannelCommand({ channelName }));
    await stop(upgraded);

    const fresh = await engineOn(url);
    expect(fresh.cloud.accessKeys).toEqual([oldKey]);
    const page = await clientOf(fresh, oldKey).send(new ListChannelsCommand({ nextToken: oldToken }));
    expect(names(page)).toEqual(['c2']);
  });

  describe('alerts', () => {
    let hook: Receiver | undefined;
    afterEach(async () => {
      await hook?.close();
    });

    it('sends a frost start once when both engines evaluate the same records', async () => {
      const url = await (await started!).createDatabase('alerts');
      hook = await startReceiver('/hook');
      const options: TestCloudOptions = {
        cloud: { resourceFiles: ['cloud/resources/default.json'] },
        alerts: { webhook: { url: hook.url }, delivery: { timeoutMs: 10_000 } },
      };
      const [a, b] = await Promise.all([engineOn(url, options), engineOn(url, options)]);
      const now = Date.now();
      const frost = weatherDay({ end: now, hours: 0.5, stepMs: 60_000, low: -2, high: -2 });
      const records = frost.map((r, i) => ({ messageId: `r${i}`, payload: Buffer.from(JSON.stringify({ ...r, device_id: 'river_bend' })) }));
      await a.cloud.engine.batchPutMessage({ channelName: 'weather_channel', messages: records });
      // Both at once, twice each, as their timers may: whichever holds the lease, the other goes after it.
      await Promise.all([a.cloud.alerts!.evaluateNow(), b.cloud.alerts!.evaluateNow(), a.cloud.alerts!.evaluateNow(), b.cloud.alerts!.evaluateNow()]);
      await until(() => hook!.received.length >= 1, 'the frost start at the webhook');
      const settled = async () => {
        await Promise.all([a.cloud.alerts!.idle(), b.cloud.alerts!.idle()]);
        const counts = await Promise.all([a.cloud.alerts!.alertStore.outboxCounts(), b.cloud.alerts!.alertStore.outboxCounts()]);
        return counts.every((c) => c.pending === 0);
      };
      await until(settled, 'every delivery done on both engines');
      // The first frosty record raised it; on separate alert state each engine would have sent its own.
      expect(hook.received.map((r) => String(r.headers[EVENT_HEADER]))).toEqual([`river_bend/frost/${frost[0]!.ts}/start`]);
    });
  });
});
