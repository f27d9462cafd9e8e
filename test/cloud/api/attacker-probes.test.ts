import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateChannelCommand,
  CreateDatastoreCommand,
  DescribeChannelCommand,
  DescribeDatasetCommand,
  IoTAnalyticsClient,
  ListChannelsCommand,
} from '@aws-sdk/client-iotanalytics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiSettings } from '../../../cloud/api/api-settings.ts';
import { MAX_BODY_DEPTH } from '../../../cloud/api/json-depth.ts';
import { startCloud } from '../../../cloud/api/start-cloud.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import { testStorage } from '../helpers/test-storage.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';
import { errorOf, failure, recordingEngine, signedInject, silentLog, TEST_KEY, testApp } from './helpers.ts';
import { rawSignedFetch, type RawCall } from './raw-signed.ts';

// Issue 9, defect 8: what an attacker probing the API found, each through the real AWS SDK or a signed raw call.

const run = promisify(execFile);
let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
  await t.client.send(new CreateDatastoreCommand({ datastoreName: 'probe_store' }));
  await t.client.send(new CreateChannelCommand({ channelName: 'probe_channel' }));
});
afterAll(async () => {
  await t.stop();
});

const raw = (call: Omit<RawCall, 'endpoint' | 'credentials'>) => rawSignedFetch({ endpoint: t.cloud.endpoint, credentials: TEST_KEY, ...call });
/** `{"a":{"a":...1...}}`, built as text: JSON.stringify itself overflows the stack at these depths. */
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const datasetWithDestination = (name: string, destination: string) =>
  `{"datasetName":"${name}","actions":[{"actionName":"q","queryAction":{"sqlQuery":"SELECT * FROM probe_store"}}],"contentDeliveryRules":[{"destination":{"x":${destination}}}]}`;

describe('headers added after signing', () => {
  const rule = JSON.stringify({ sql: "SELECT * FROM 'dt/weather/+/reading'", actions: [{ iotAnalytics: { channelName: 'probe_channel' } }] });

  it('refuses an unsigned x-amz-tagging on a new topic rule with 403 naming the header, and creates nothing', async () => {
    const forged = await raw({ method: 'POST', path: '/rules/probe_rule', body: rule, service: 'iot', unsignedHeaders: { 'x-amz-tagging': 'owner=attacker' } });
    expect(forged.status).toBe(403);
    expect(forged.errorType).toBe('InvalidSignatureException');
    expect(forged.body.message).toMatch(/headers present in the request which were not signed: x-amz-tagging\. Sign every x-amz-\* header/);
    const missing = await raw({ method: 'GET', path: '/rules/probe_rule', service: 'iot' });
    expect(missing.status).toBe(404);

    const signed = await raw({ method: 'POST', path: '/rules/probe_rule', body: rule, service: 'iot', headers: { 'x-amz-tagging': 'owner=school' } });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
  });

  it('refuses an x-amz-* header the AWS SDK did not sign, and still takes what the SDK signs itself', async () => {
    const client = new IoTAnalyticsClient({ endpoint: t.cloud.endpoint, region: 'eu-west-1', credentials: { ...TEST_KEY }, maxAttempts: 1 });
    try {
      type Handler = (args: { request: { headers: Record<string, string> } }) => Promise<unknown>;
      const addAfterSigning = (next: Handler): Handler => async (args) => {
        args.request.headers['x-amz-tagging'] = 'owner=attacker';
        return next(args);
      };
      // The stack's generic middleware type is not expressible without @smithy/types, which is not a dependency.
      client.middlewareStack.addRelativeTo(addAfterSigning as never, { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'addAfterSigning' });
      const error = await failure(client.send(new CreateChannelCommand({ channelName: 'probe_after_signing' })));
      expect(error.name).toBe('InvalidSignatureException');
      expect(error.$metadata.httpStatusCode).toBe(403);
      expect(error.message).toContain('x-amz-tagging');
    } finally {
      client.destroy();
    }
    expect((await failure(t.client.send(new DescribeChannelCommand({ channelName: 'probe_after_signing' })))).name).toBe('ResourceNotFoundException');
    // The plain SDK client sends x-amz-user-agent, amz-sdk-* and x-amz-date: all signed, so it passes.
    expect((await t.client.send(new ListChannelsCommand({}))).$metadata.httpStatusCode).toBe(200);
  });

  it('lets /usr/bin/aws and boto3 through: they sign every x-amz-* header they send', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey, AWS_DEFAULT_REGION: 'eu-west-1', AWS_EC2_METADATA_DISABLED: 'true' };
    const cli = await run('/usr/bin/aws', ['iotanalytics', 'list-datastores', '--endpoint-url', t.cloud.endpoint, '--output', 'json'], { env });
    expect(JSON.parse(cli.stdout).datastoreSummaries.map((d: { datastoreName: string }) => d.datastoreName)).toContain('probe_store');
    const script = `import boto3, sys\nc = boto3.client('iotanalytics', endpoint_url=sys.argv[1])\nprint(len(c.list_datastores()['datastoreSummaries']))`;
    const boto = await run('/usr/bin/python3', ['-c', script, t.cloud.endpoint], { env });
    expect(Number(boto.stdout.trim())).toBeGreaterThanOrEqual(1);
  });
});

describe('deeply nested bodies', () => {
  it('answers 5,000 levels with 400 InvalidRequestException before any handler runs, through a real server', async () => {
    const deep = await raw({ method: 'POST', path: '/datasets', body: datasetWithDestination('probe_deep', nested(5000)) });
    expect(deep.status).toBe(400);
    expect(deep.errorType).toBe('InvalidRequestException');
    expect(deep.body.message).toBe(`The request body nests objects or arrays more than ${MAX_BODY_DEPTH} levels deep; no IoT Analytics request needs that many, so flatten it.`);
    expect((await failure(t.client.send(new DescribeDatasetCommand({ datasetName: 'probe_deep' })))).name).toBe('ResourceNotFoundException');
  });

  it('keeps the limit exact: 64 levels in all still reach the operation', async () => {
    // The body, contentDeliveryRules' array, the rule and its destination are 4 levels; x holds the rest.
    // The model's strict destination then refuses the unknown key "x": that refusal comes from the
    // operation's schema, past the depth check, which is what this test is about.
    const ok = await raw({ method: 'POST', path: '/datasets', body: datasetWithDestination('probe_deep_ok', nested(MAX_BODY_DEPTH - 4)) });
    expect(ok.body.message, JSON.stringify(ok.body)).toMatch(/destination: Unrecognized key: "x"/);
    const over = await raw({ method: 'POST', path: '/datasets', body: datasetWithDestination('probe_deep_over', nested(MAX_BODY_DEPTH - 3)) });
    expect(over.body.message).toMatch(/more than 64 levels deep/);
  });

  it('does not count brackets inside strings, and wide bodies still meet only the size limit', async () => {
    const bracketName = await raw({ method: 'POST', path: '/channels', body: JSON.stringify({ channelName: 'probe_brackets', tags: [{ key: 'k', value: `${'['.repeat(200)}\\"{` }] }) });
    expect(bracketName.status, JSON.stringify(bracketName.body)).toBe(201);
    const wide = await raw({ method: 'POST', path: '/channels', body: JSON.stringify({ channelName: 'probe_wide', tags: Array.from({ length: 20_000 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }) });
    expect(wide.errorType).toBe('InvalidRequestException');
    expect(wide.body.message).not.toMatch(/levels deep/);
  });

  it('refuses 5,000 levels through inject without calling the engine', async () => {
    const { engine, calls } = recordingEngine();
    const { app, clock } = await testApp(engine);
    const response = await signedInject(app, clock.now, { method: 'POST', url: '/channels', rawBody: `{"channelName":"x","channelStorage":${nested(5000)}}` });
    expect(errorOf(response)).toMatchObject({ type: 'InvalidRequestException', status: 400, message: expect.stringMatching(/more than 64 levels deep/) });
    expect(calls).toEqual([]);
    await app.close();
  });
});

describe('signature region', () => {
  it('refuses a signature scoped to another region the way AWS does, and says which region to use', async () => {
    const client = new IoTAnalyticsClient({ endpoint: t.cloud.endpoint, region: 'us-east-1', credentials: { ...TEST_KEY }, maxAttempts: 1 });
    try {
      const error = await failure(client.send(new ListChannelsCommand({})));
      expect(error.name).toBe('InvalidSignatureException');
      expect(error.$metadata.httpStatusCode).toBe(403);
      expect(error.message).toBe("Credential should be scoped to a valid region, not 'us-east-1'. This endpoint's region is 'eu-west-1': set the client's region to it.");
    } finally {
      client.destroy();
    }
  });
});

describe('nextToken', () => {
  it('refuses a hand-made token and an edited one with the message that says what to do', async () => {
    for (let i = 0; i < 3; i++) await t.client.send(new CreateChannelCommand({ channelName: `probe_page_${i}` }));
    const first = await t.client.send(new ListChannelsCommand({ maxResults: 1 }));
    const token = first.nextToken!;
    const handMade = Buffer.from(JSON.stringify({ after: 'probe_page_1' })).toString('base64url');
    const [body, mac] = token.split('.') as [string, string];
    const editedBody = `${Buffer.from(JSON.stringify({ after: 'probe_page_1' })).toString('base64url')}.${mac}`;
    const editedMac = `${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const forged of [handMade, `${handMade}.`, editedBody, editedMac]) {
      const error = await failure(t.client.send(new ListChannelsCommand({ maxResults: 1, nextToken: forged })));
      expect(error.name, forged).toBe('InvalidRequestException');
      expect(error.message).toBe('nextToken is not valid; pass the nextToken of the previous page unchanged.');
    }
    const second = await t.client.send(new ListChannelsCommand({ maxResults: 1, nextToken: token }));
    expect(second.channelSummaries?.[0]?.channelName).not.toBe(first.channelSummaries?.[0]?.channelName);
  });

  it('keeps a token good across a restart and between two API workers on one data folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-token-'));
    const storage = await testStorage(dir);
    const settings = () => ({ cloud: cloudSettings.parse({ dataDir: dir, resourceFiles: [], mqtt: { enabled: false }, ...storage }), api: apiSettings.parse({ port: 0, accessKeys: [TEST_KEY] }) });
    const list = async (endpoint: string, nextToken?: string) => {
      const client = new IoTAnalyticsClient({ endpoint, region: 'eu-west-1', credentials: { ...TEST_KEY }, maxAttempts: 1 });
      try {
        return await client.send(new ListChannelsCommand({ maxResults: 1, nextToken }));
      } finally {
        client.destroy();
      }
    };
    try {
      const before = startCloud({ settings: settings(), log: silentLog, env: {} });
      await before.start();
      for (const name of ['a_first', 'b_second', 'c_third']) await before.engine.createChannel({ channelName: name });
      const token = (await list(before.endpoint)).nextToken!;
      await before.stop();

      const after = startCloud({ settings: settings(), log: silentLog, env: {} });
      await after.start();
      const other = startCloud({ settings: settings(), log: silentLog, env: {} });
      await other.start();
      try {
        expect((await list(after.endpoint, token)).channelSummaries?.map((c) => c.channelName)).toEqual(['b_second']);
        const next = (await list(after.endpoint, token)).nextToken!;
        expect((await list(other.endpoint, next)).channelSummaries?.map((c) => c.channelName)).toEqual(['c_third']);
      } finally {
        await other.stop();
        await after.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
