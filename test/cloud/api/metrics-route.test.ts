import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchPutMessageCommand, CreateChannelCommand, CreateDatasetCommand, CreateDatasetContentCommand, CreateDatastoreCommand, CreatePipelineCommand,
  GetDatasetContentCommand,
} from '@aws-sdk/client-iotanalytics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue, type PromSample } from '../../fixtures/prometheus-text.ts';
import { until } from '../fixtures/until.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';

// GET /metrics of a real started cloud (engine, SQLite, HTTP), after messages went in through
// BatchPutMessage (the AWS SDK) and through the MQTT ingest, a pipeline failed and datasets ran.

const reading = (ts: number) => ({ ts, ambient_temperature: 4.5, humidity: 80 });
const envelope = (messageId: string, deviceId: string, records: unknown[]) => Buffer.from(JSON.stringify({ messageId, deviceId, seq: 1, sentAt: 1, records }));

async function scrape(t: TestCloud, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${t.cloud.endpoint}/metrics`, { headers });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

async function samples(t: TestCloud): Promise<PromSample[]> {
  const { status, text } = await scrape(t);
  expect(status).toBe(200);
  return parsePrometheusText(text);
}

describe('GET /metrics on a started cloud', () => {
  let t: TestCloud;

  let lambdas: string;

  beforeAll(async () => {
    lambdas = mkdtempSync(join(tmpdir(), 'hedgerow-metrics-lambda-'));
    writeFileSync(join(lambdas, 'broken.mjs'), 'export default () => { throw new Error("broken on purpose"); };\n');
    t = await startTestCloud({ cloud: { lambdaDir: lambdas } });
  });

  afterAll(async () => {
    await t?.stop();
    rmSync(lambdas, { recursive: true, force: true });
  });

  it('serves Prometheus text without a signature, with the process metrics', async () => {
    const { status, type, text } = await scrape(t);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const parsed = parsePrometheusText(text);
    expect(sampleValue(parsed, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE hedgerow_channel_messages_total counter');
  });

  it('counts messages per channel, duplicates and refused BatchPutMessage entries', async () => {
    const { client } = t;
    await client.send(new CreateChannelCommand({ channelName: 'weather_in' }));
    await client.send(new CreateChannelCommand({ channelName: 'other_in' }));
    const before = await samples(t);
    const put = (channelName: string, ids: string[], extra: { messageId: string; payload: Uint8Array }[] = []) =>
      client.send(new BatchPutMessageCommand({ channelName, messages: [...ids.map((id, i) => ({ messageId: id, payload: Buffer.from(JSON.stringify(reading(i))) })), ...extra] }));
    await put('weather_in', ['a', 'b', 'c']);
    // b and c again (duplicates), one new, and a JSON object with a bad attribute name (refused in the error entries).
    const second = await put('weather_in', ['b', 'c', 'd'], [{ messageId: 'bad', payload: Buffer.from('{"bad name": 1}') }]);
    expect(second.batchPutMessageErrorEntries).toHaveLength(1);
    await put('other_in', ['x']);
    const after = await samples(t);
    const moved = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(moved('hedgerow_channel_messages_total', { channel: 'weather_in' })).toBe(4);
    expect(moved('hedgerow_channel_messages_total', { channel: 'other_in' })).toBe(1);
    expect(moved('hedgerow_channel_duplicate_messages_total', { channel: 'weather_in' })).toBe(2);
    expect(moved('hedgerow_batch_put_messages_total', { result: 'accepted' })).toBe(7);
    expect(moved('hedgerow_batch_put_messages_total', { result: 'refused' })).toBe(1);
  });

  it('counts MQTT messages and refusals per reason', async () => {
    const engine = t.cloud.engine;
    await engine.createChannel({ channelName: 'mqtt_in' });
    await engine.createTopicRule({ ruleName: 'readings', topicRulePayload: { sql: "SELECT * FROM 'dt/weather/+/reading'", actions: [{ iotAnalytics: { channelName: 'mqtt_in', batchMode: true } }] } });
    const before = await samples(t);
    await engine.handleMqttMessage('dt/weather/st1/reading', envelope('e1', 'st1', [reading(1), reading(2), { ts: 3, ambient_temperature: 900 }]));
    await engine.handleMqttMessage('dt/weather/st1/reading', Buffer.from('{not json'));
    await engine.handleMqttMessage('dt/weather/st1/reading', envelope('e2', 'st2', [reading(4)]));
    await engine.handleMqttMessage('dt/weather/st1/status', Buffer.from('[1]'));
    const after = await samples(t);
    const moved = (name: string, labels: Record<string, string> = {}) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(moved('hedgerow_mqtt_messages_total')).toBe(4);
    expect(moved('hedgerow_channel_messages_total', { channel: 'mqtt_in' })).toBe(2);
    expect(moved('hedgerow_mqtt_refused_total', { reason: 'record' })).toBe(1);
    expect(moved('hedgerow_mqtt_refused_total', { reason: 'payload' })).toBe(1);
    expect(moved('hedgerow_mqtt_refused_total', { reason: 'impersonation' })).toBe(1);
    expect(moved('hedgerow_mqtt_refused_total', { reason: 'status' })).toBe(1);
    expect(moved('hedgerow_mqtt_refused_total', { reason: 'internal' })).toBe(0);
    // The same figures the engine reports itself: counted once, read twice.
    expect(sampleValue(after, 'hedgerow_mqtt_messages_total')).toBe(engine.ingestStats().received);
  });

  it('counts pipeline errors per pipeline', async () => {
    const { client } = t;
    await client.send(new CreateChannelCommand({ channelName: 'to_lambda' }));
    await client.send(new CreateDatastoreCommand({ datastoreName: 'lambda_out' }));
    await client.send(
      new CreatePipelineCommand({
        pipelineName: 'breaks',
        pipelineActivities: [
          { channel: { name: 'in', channelName: 'to_lambda', next: 'l' } },
          { lambda: { name: 'l', lambdaName: 'broken', batchSize: 10, next: 'out' } },
          { datastore: { name: 'out', datastoreName: 'lambda_out' } },
        ],
      }),
    );
    await client.send(new BatchPutMessageCommand({ channelName: 'to_lambda', messages: [{ messageId: 'p1', payload: Buffer.from(JSON.stringify(reading(1))) }] }));
    await client.send(new BatchPutMessageCommand({ channelName: 'to_lambda', messages: [{ messageId: 'p2', payload: Buffer.from(JSON.stringify(reading(2))) }] }));
    expect(sampleValue(await samples(t), 'hedgerow_pipeline_activity_errors_total', { pipeline: 'breaks', activity: 'l' })).toBe(2);
  });

  it('times dataset content runs and shows the last state per dataset', async () => {
    const { client } = t;
    await client.send(new CreateChannelCommand({ channelName: 'ds_in' }));
    await client.send(new CreateDatastoreCommand({ datastoreName: 'ds_store' }));
    await client.send(
      new CreatePipelineCommand({
        pipelineName: 'ds_pipe',
        pipelineActivities: [{ channel: { name: 'in', channelName: 'ds_in', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'ds_store' } }],
      }),
    );
    await client.send(new BatchPutMessageCommand({ channelName: 'ds_in', messages: [{ messageId: 'r1', payload: Buffer.from(JSON.stringify(reading(1))) }] }));
    await client.send(new CreateDatasetCommand({ datasetName: 'good', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT * FROM ds_store' } }] }));
    await client.send(new CreateDatasetCommand({ datasetName: 'bad', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT no_such_column FROM ds_store' } }] }));
    for (const datasetName of ['good', 'good', 'bad']) {
      await client.send(new CreateDatasetContentCommand({ datasetName }));
      await t.cloud.engine.idle();
    }
    const state = async (datasetName: string) => (await client.send(new GetDatasetContentCommand({ datasetName, versionId: '$LATEST' }))).status?.state;
    await until(async () => (await state('good')) === 'SUCCEEDED' && (await state('bad')) === 'FAILED', 'both dataset runs to end');
    const after = await samples(t);
    expect(sampleValue(after, 'hedgerow_dataset_content_run_seconds_count', { dataset: 'good', state: 'SUCCEEDED' })).toBe(2);
    expect(sampleValue(after, 'hedgerow_dataset_content_run_seconds_count', { dataset: 'bad', state: 'FAILED' })).toBe(1);
    expect(sampleValue(after, 'hedgerow_dataset_content_run_seconds_bucket', { dataset: 'good', state: 'SUCCEEDED', le: '+Inf' })).toBe(2);
    expect(sampleValue(after, 'hedgerow_dataset_content_state', { dataset: 'good', state: 'SUCCEEDED' })).toBe(1);
    expect(sampleValue(after, 'hedgerow_dataset_content_state', { dataset: 'good', state: 'CREATING' })).toBe(0);
    expect(sampleValue(after, 'hedgerow_dataset_content_state', { dataset: 'bad', state: 'FAILED' })).toBe(1);
    expect(sampleValue(after, 'hedgerow_dataset_content_state', { dataset: 'bad', state: 'SUCCEEDED' })).toBe(0);
  });
});

describe('GET /metrics with a bearer token', () => {
  let t: TestCloud;
  const token = 'scrape-token-0123456789';

  beforeAll(async () => {
    t = await startTestCloud({ api: { metrics: { enabled: true, bearerToken: token } } });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('refuses a scrape without the token, saying what to send, and serves one with it', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: token }];
    for (const headers of attempts) {
      const refused = await scrape(t, headers);
      expect(refused.status).toBe(401);
      expect(refused.text).toMatch(/Authorization: Bearer <api\.metrics\.bearerToken>/);
      expect(refused.text).not.toMatch(/hedgerow_|\bat \S+:\d+/);
    }
    const served = await scrape(t, { authorization: `Bearer ${token}` });
    expect(served.status).toBe(200);
    expect(served.text).toContain('hedgerow_channel_messages_total');
  });
});

describe('GET /metrics turned off', () => {
  it('is not served (an unsigned call to an unknown path is refused as before)', async () => {
    const t = await startTestCloud({ api: { metrics: { enabled: false } } });
    try {
      const { status, text } = await scrape(t);
      expect(status).toBe(403);
      expect(text).not.toContain('hedgerow_');
    } finally {
      await t.stop();
    }
  });
});
