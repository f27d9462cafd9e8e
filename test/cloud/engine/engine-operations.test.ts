import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequestException, LimitExceededException, ResourceAlreadyExistsException, ResourceNotFoundException } from '../../../cloud/engine/errors.ts';
import { createFlow, message, startEngine, type EngineFixture } from './engine-fixture.ts';
import { contentText } from '../helpers/content-text.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function count(f: EngineFixture, channel = 'ch'): Promise<number> {
  return (await f.engine.sampleChannelData({ channelName: channel, maxMessages: 10 })).payloads!.length;
}

describe('engine: retention', () => {
  let f: EngineFixture;
  beforeEach(async () => {
    f = await startEngine({ retentionSweepMs: HOUR });
  });
  afterEach(async () => f.close());

  const datastoreBytes = async () => (await f.engine.describeDatastore({ datastoreName: 'ds', includeStatistics: true })).statistics!.size!.estimatedSizeInBytes;

  it('sweeps channel messages and datastore rows older than their retention period in the background', async () => {
    await f.engine.createChannel({ channelName: 'ch', retentionPeriod: { numberOfDays: 2 } });
    await f.engine.createDatastore({ datastoreName: 'ds', retentionPeriod: { numberOfDays: 1 } });
    await f.engine.createPipeline({ pipelineName: 'p', pipelineActivities: [{ channel: { name: 'c', channelName: 'ch', next: 'd' } }, { datastore: { name: 'd', datastoreName: 'ds' } }] });
    await f.engine.createChannel({ channelName: 'forever' });
    await f.engine.batchPutMessage({ channelName: 'ch', messages: [message('old', { v: 1 })] });
    await f.engine.batchPutMessage({ channelName: 'forever', messages: [message('old', { v: 1 })] });
    expect(await datastoreBytes()).toBeGreaterThan(0);
    await f.time.advance(DAY - HOUR);
    expect(await datastoreBytes()).toBeGreaterThan(0);
    await f.time.advance(2 * HOUR);
    expect(await datastoreBytes()).toBe(0);
    await f.engine.batchPutMessage({ channelName: 'ch', messages: [message('new', { v: 2 })] });
    expect(await count(f)).toBe(2);
    await f.time.advance(DAY);
    expect(await count(f)).toBe(1);
    expect(await count(f, 'forever')).toBe(1);
    expect(await datastoreBytes()).toBeGreaterThan(0);
    expect(await f.engine.sweepRetention()).toEqual({ channelMessages: 0, datastoreRows: 0 });
  });
});

describe('engine: reprocessing', () => {
  let f: EngineFixture;
  beforeEach(async () => {
    f = await startEngine();
    await createFlow(f.engine, [{ math: { attribute: 'v', math: 'v * 10' } }]);
  });
  afterEach(async () => f.close());

  it('replays a channel window through the current activities, startTime inclusive and endTime exclusive', async () => {
    const t0 = f.time.now();
    for (let i = 0; i < 4; i += 1) {
      await f.engine.batchPutMessage({ channelName: 'ch', messages: [message(`m${i}`, { v: i })] });
      await f.time.advance(1000);
    }
    await f.engine.updatePipeline({
      pipelineName: 'pl',
      pipelineActivities: [{ channel: { name: 'c', channelName: 'ch', next: 'm' } }, { math: { name: 'm', attribute: 'v', math: 'v + 100', next: 'd' } }, { datastore: { name: 'd', datastoreName: 'ds' } }],
    });
    const { reprocessingId } = await f.engine.startPipelineReprocessing({ pipelineName: 'pl', startTime: new Date(t0 + 1000), endTime: new Date(t0 + 3000) });
    await f.engine.idle();
    const summaries = (await f.engine.describePipeline({ pipelineName: 'pl' })).pipeline!.reprocessingSummaries!;
    expect(summaries).toEqual([{ id: reprocessingId, status: 'SUCCEEDED', creationTime: new Date(f.time.now()) }]);
    await f.engine.createDataset({ datasetName: 'all', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT v FROM ds ORDER BY v' } }] });
    await f.engine.createDatasetContent({ datasetName: 'all' });
    await f.engine.idle();
    const content = await f.engine.getDatasetContent({ datasetName: 'all' });
    const file = await f.engine.openDatasetContent({ datasetName: 'all', versionId: content.entries![0]!.dataURI!.split('/')[3]!, entryName: 'all.csv' });
    expect((await contentText(file)).trim().split('\r\n')).toEqual(['v', '0', '10', '20', '30', '101', '102']);
  });

  it('allows one run at a time, cancels a running one, and explains the rest', async () => {
    for (let page = 0; page < 20; page += 1) {
      await f.engine.batchPutMessage({ channelName: 'ch', messages: Array.from({ length: 100 }, (_, i) => message(`p${page}-${i}`, { v: i })) });
    }
    const first = await f.engine.startPipelineReprocessing({ pipelineName: 'pl' });
    await expect(f.engine.startPipelineReprocessing({ pipelineName: 'pl' })).rejects.toThrow(ResourceAlreadyExistsException);
    await f.engine.cancelPipelineReprocessing({ pipelineName: 'pl', reprocessingId: first.reprocessingId! });
    const summaries = (await f.engine.listPipelines({})).pipelineSummaries![0]!.reprocessingSummaries!;
    expect(summaries[0]).toMatchObject({ id: first.reprocessingId, status: 'CANCELLED' });
    await expect(f.engine.cancelPipelineReprocessing({ pipelineName: 'pl', reprocessingId: first.reprocessingId! })).rejects.toThrow(/already ended \(CANCELLED\)/);
    await expect(f.engine.cancelPipelineReprocessing({ pipelineName: 'pl', reprocessingId: 'nope' })).rejects.toThrow(ResourceNotFoundException);
    await expect(f.engine.startPipelineReprocessing({ pipelineName: 'ghost' })).rejects.toThrow(ResourceNotFoundException);
    await expect(f.engine.startPipelineReprocessing({ pipelineName: 'pl', channelMessages: { s3Paths: ['x'] } })).rejects.toThrow(/S3/);
    await expect(f.engine.startPipelineReprocessing({ pipelineName: 'pl', startTime: new Date(5), endTime: new Date(5) })).rejects.toThrow(/before endTime/);
    const second = await f.engine.startPipelineReprocessing({ pipelineName: 'pl' });
    await f.engine.idle();
    expect(second.reprocessingId).not.toBe(first.reprocessingId);
  });
});

describe('engine: tags, logging options and topic rules', () => {
  let f: EngineFixture;
  beforeEach(async () => {
    f = await startEngine();
    await createFlow(f.engine);
  });
  afterEach(async () => f.close());

  it('tags resources by ARN', async () => {
    const arn = (await f.engine.describeDatastore({ datastoreName: 'ds' })).datastore!.arn!;
    await f.engine.tagResource({ resourceArn: arn, tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] });
    await f.engine.untagResource({ resourceArn: arn, tagKeys: ['a'] });
    expect((await f.engine.listTagsForResource({ resourceArn: arn })).tags).toEqual([{ key: 'b', value: '2' }]);
    const tooMany = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    await expect(f.engine.tagResource({ resourceArn: arn, tags: tooMany })).rejects.toThrow(LimitExceededException);
    await expect(f.engine.listTagsForResource({ resourceArn: 'arn:aws:s3:::bucket' })).rejects.toThrow(InvalidRequestException);
    await expect(f.engine.listTagsForResource({ resourceArn: arn.replace('datastore/ds', 'datastore/ghost') })).rejects.toThrow(ResourceNotFoundException);
  });

  it('keeps logging options', async () => {
    expect(await f.engine.describeLoggingOptions()).toEqual({});
    const loggingOptions = { roleArn: 'arn:aws:iam::000000000000:role/log', level: 'ERROR' as const, enabled: true };
    await f.engine.putLoggingOptions({ loggingOptions });
    expect(await f.engine.describeLoggingOptions()).toEqual({ loggingOptions });
    await expect(f.engine.putLoggingOptions({ loggingOptions: { ...loggingOptions, level: 'DEBUG' as never } })).rejects.toThrow(InvalidRequestException);
  });

  it('manages topic rules that feed channels from MQTT messages', async () => {
    await f.engine.createTopicRule({
      ruleName: 'hot',
      topicRulePayload: { sql: "SELECT * FROM 'dt/weather/+/reading' WHERE ambient_temperature > 25", actions: [{ iotAnalytics: { channelName: 'ch', batchMode: true } }] },
    });
    const envelope = { messageId: 'e1', deviceId: 'st1', seq: 1, sentAt: 1, records: [{ ts: 1, ambient_temperature: 30 }, { ts: 2, ambient_temperature: 10 }] };
    await f.engine.handleMqttMessage('dt/weather/st1/reading', Buffer.from(JSON.stringify(envelope)));
    await f.engine.handleMqttMessage('dt/museum/box/tap', Buffer.from(JSON.stringify(envelope)));
    expect(await count(f)).toBe(1);
    expect(f.engine.ingestStats()).toMatchObject({ received: 2, accepted: 1, rejected: 0 });
    expect((await f.engine.getTopicRule({ ruleName: 'hot' })).rule).toMatchObject({ ruleName: 'hot', ruleDisabled: false });
    expect((await f.engine.listTopicRules({})).rules!.map((r) => r.topicPattern)).toEqual(['dt/weather/+/reading']);
    await f.engine.replaceTopicRule({ ruleName: 'hot', topicRulePayload: { sql: "SELECT * FROM 'dt/#'", ruleDisabled: true, actions: [{ iotAnalytics: { channelName: 'ch' } }] } });
    await f.engine.handleMqttMessage('dt/weather/st1/reading', Buffer.from(JSON.stringify({ ...envelope, messageId: 'e2' })));
    expect(await count(f)).toBe(1);
    await expect(f.engine.createTopicRule({ ruleName: 'x', topicRulePayload: { sql: "SELECT * FROM 'a'", actions: [{ iotAnalytics: { channelName: 'ghost' } }] } })).rejects.toThrow(/does not exist/);
    await expect(f.engine.createTopicRule({ ruleName: 'x', topicRulePayload: { sql: 'DELETE everything', actions: [{ iotAnalytics: { channelName: 'ch' } }] } })).rejects.toThrow(InvalidRequestException);
    await f.engine.deleteTopicRule({ ruleName: 'hot' });
    await expect(f.engine.getTopicRule({ ruleName: 'hot' })).rejects.toThrow(ResourceNotFoundException);
  });
});

describe('engine: default resources', () => {
  it('creates the weather, alerts and taps resources from cloud/resources/default.json, once', async () => {
    const f = await startEngine({ resourceFiles: ['cloud/resources/default.json'] });
    try {
      const datasets = (await f.engine.listDatasets({})).datasetSummaries!.map((d) => d.datasetName);
      expect(datasets).toEqual(['taps_weekly', 'weather_alerts', 'weather_daily']);
      const station = 'station_7';
      const records = [0, 1, 2].map((i) => ({
        ts: Date.UTC(2024, 5, 1, 10 + i), ambient_temperature: 10.04 + i, ground_temperature: 9, air_quality: 40, air_pressure: 1012,
        humidity: 70, wind_direction: 180, wind_speed: 5, wind_gust_speed: 10 + i * 5, rainfall: 0.2794, sensors: { bme280: 'ok' },
      }));
      await f.engine.handleMqttMessage(`dt/weather/${station}/reading`, Buffer.from(JSON.stringify({ messageId: 'w1', deviceId: station, seq: 1, sentAt: 1, records })));
      const taps = ['owl', 'owl', 'fox'].map((object_id, i) => ({ ts: Date.UTC(2024, 5, 3, 9, i), uid: '04AABB', object_id, event: 'started', play_duration_ms: null }));
      await f.engine.handleMqttMessage('dt/museum/box_1/tap', Buffer.from(JSON.stringify({ messageId: 't1', deviceId: 'box_1', seq: 1, sentAt: 1, records: taps })));
      await f.time.advance(60 * 60_000);
      await f.engine.idle();
      const read = async (datasetName: string) => {
        const content = await f.engine.getDatasetContent({ datasetName });
        const file = await f.engine.openDatasetContent({ datasetName, versionId: content.entries![0]!.dataURI!.split('/')[3]!, entryName: `${datasetName}.csv` });
        return (await contentText(file)).trim().split('\r\n');
      };
      expect(await read('weather_daily')).toEqual([
        'station,day,ambient_temperature_min_c,ambient_temperature_max_c,ambient_temperature_mean_c,rainfall_total_mm,wind_gust_speed_max_kmh',
        'station_7,2024-06-01 00:00:00.000,10,12,11,0.84,20',
      ]);
      expect(await read('taps_weekly')).toEqual(['box,week,object_id,taps', 'box_1,2024-06-03 00:00:00.000,owl,2', 'box_1,2024-06-03 00:00:00.000,fox,1']);
      expect(await f.engine.describeThing({ thingName: station })).toMatchObject({ attributes: { app: 'weather' } });
      await f.engine.stop();
      await f.engine.start();
      expect((await f.engine.listChannels({})).channelSummaries).toHaveLength(3);
    } finally {
      await f.close();
    }
  });
});
