import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IoTAnalyticsClient, ListChannelsCommand } from '@aws-sdk/client-iotanalytics';
import { afterEach, describe, expect, it } from 'vitest';
import { apiSettings } from '../../../cloud/api/api-settings.ts';
import { GENERATED_KEYS_FILE } from '../../../cloud/api/api-settings.ts';
import { applyTargetFrom, startCloud, type CloudExtension } from '../../../cloud/api/start-cloud.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import { testStorage } from '../helpers/test-storage.ts';
import { startTestCloud } from './cloud-fixture.ts';
import { silentLog, TEST_KEY } from './helpers.ts';

const run = promisify(execFile);
const dirs: string[] = [];
const clouds: CloudExtension[] = [];

afterEach(async () => {
  for (const cloud of clouds.splice(0)) await cloud.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function settingsIn(dir: string, api: Record<string, unknown> = {}, storage: { storage?: string } = {}) {
  return { cloud: cloudSettings.parse({ dataDir: dir, resourceFiles: [], mqtt: { enabled: false }, ...storage }), api: apiSettings.parse({ port: 0, ...api }) };
}

async function started(dir: string, env: NodeJS.ProcessEnv, api: Record<string, unknown> = {}): Promise<CloudExtension> {
  const cloud = startCloud({ settings: settingsIn(dir, api, await testStorage(dir)), log: silentLog, env });
  await cloud.start();
  clouds.push(cloud);
  return cloud;
}

async function listWith(cloud: CloudExtension, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<number | undefined> {
  const client = new IoTAnalyticsClient({ endpoint: cloud.endpoint, region: 'eu-west-1', credentials: { ...credentials }, maxAttempts: 1 });
  try {
    return (await client.send(new ListChannelsCommand({}))).$metadata.httpStatusCode;
  } finally {
    client.destroy();
  }
}

describe('startCloud', () => {
  it('with no key configured, generates one into a private file and keeps it across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-start-'));
    dirs.push(dir);
    const first = await started(dir, {});
    const file = join(dir, GENERATED_KEYS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = first.accessKeys[0]!;
    expect(key.accessKeyId).toMatch(/^HEDGEROW[0-9A-F]{12}$/);
    expect(await listWith(first, key)).toBe(200);
    await first.stop();
    clouds.splice(0);

    const second = await started(dir, {});
    expect(second.accessKeys).toEqual([key]);
    expect(applyTargetFrom(settingsIn(dir), {})).toEqual({ endpoint: `http://127.0.0.1:0`, credentials: key, region: 'eu-west-1' });
    // `hedgerow cloud apply` signs for the region the server pins, or its own calls would be refused.
    expect(applyTargetFrom(settingsIn(dir, { region: 'eu-north-1' }), {}).region).toBe('eu-north-1');
  });

  it('refuses a damaged api-credentials.json with what to do, and starts once it is deleted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-start-'));
    dirs.push(dir);
    writeFileSync(join(dir, GENERATED_KEYS_FILE), '{"accessKeyId": "HEDGEROW', { mode: 0o600 });
    await expect(started(dir, {})).rejects.toThrow(/api-credentials\.json does not hold an access key pair .*; delete it and restart/);
    rmSync(join(dir, GENERATED_KEYS_FILE));
    const cloud = await started(dir, {});
    expect(await listWith(cloud, cloud.accessKeys[0]!)).toBe(200);
  });

  it('takes the key pair from the environment, and then writes no file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-start-'));
    dirs.push(dir);
    const env = { HEDGEROW_ACCESS_KEY_ID: 'AKIDFROMENV', HEDGEROW_SECRET_ACCESS_KEY: 'a-secret-from-the-environment' };
    const cloud = await started(dir, env, { accessKeys: [TEST_KEY] });
    expect(cloud.accessKeys.map((k) => k.accessKeyId)).toEqual([TEST_KEY.accessKeyId, 'AKIDFROMENV']);
    expect(existsSync(join(dir, GENERATED_KEYS_FILE))).toBe(false);
    expect(await listWith(cloud, { accessKeyId: 'AKIDFROMENV', secretAccessKey: 'a-secret-from-the-environment' })).toBe(200);
    await expect(startCloud({ settings: settingsIn(dir), log: silentLog, env: { HEDGEROW_ACCESS_KEY_ID: 'x', HEDGEROW_SECRET_ACCESS_KEY: 'short' } }).start()).rejects.toThrow(
      /HEDGEROW_ACCESS_KEY_ID \/ HEDGEROW_SECRET_ACCESS_KEY: accessKeyId: use 4-128 letters and digits/,
    );
  });
});

describe('curl as a client', () => {
  it('signs with --aws-sigv4 and creates, lists and feeds a channel', async () => {
    const t = await startTestCloud();
    try {
      const sigv4 = ['--silent', '--aws-sigv4', 'aws:amz:eu-west-1:iotanalytics', '--user', `${TEST_KEY.accessKeyId}:${TEST_KEY.secretAccessKey}`];
      const json = ['-H', 'content-type: application/json'];
      const created = await run('curl', [...sigv4, ...json, '-X', 'POST', `${t.cloud.endpoint}/channels`, '-d', '{"channelName":"from_curl"}']);
      expect(JSON.parse(created.stdout)).toMatchObject({ channelName: 'from_curl' });
      const payload = Buffer.from('{"t":1}').toString('base64');
      const put = await run('curl', [...sigv4, ...json, '-X', 'POST', `${t.cloud.endpoint}/messages/batch`, '-d', JSON.stringify({ channelName: 'from_curl', messages: [{ messageId: '1', payload }] })]);
      expect(JSON.parse(put.stdout)).toEqual({ batchPutMessageErrorEntries: [] });
      const listed = await run('curl', [...sigv4, `${t.cloud.endpoint}/channels?maxResults=5`]);
      expect(JSON.parse(listed.stdout).channelSummaries.map((c: { channelName: string }) => c.channelName)).toEqual(['from_curl']);
      const unsigned = await run('curl', ['--silent', '--include', `${t.cloud.endpoint}/channels`]);
      expect(unsigned.stdout).toMatch(/^HTTP\/1\.1 403/);
      expect(unsigned.stdout).toMatch(/x-amzn-errortype: MissingAuthenticationTokenException/i);
    } finally {
      await t.stop();
    }
  });
});
