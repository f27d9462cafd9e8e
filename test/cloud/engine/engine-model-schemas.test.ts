import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequestException } from '../../../cloud/engine/errors.ts';
import { startEngine, type EngineFixture } from './engine-fixture.ts';

/**
 * Issue 9: the engine, called directly (tests, cloud apply, resource files), checks its input with the
 * same API model schemas the REST layer decodes with, so the two can no longer disagree.
 */
describe('engine: input checked with the API model schemas', () => {
  let f: EngineFixture;
  beforeEach(async () => {
    f = await startEngine();
  });
  afterEach(async () => f.close());

  it('refuses an empty tag value, as service-2.json TagValue (1-256 characters) and the REST layer do', async () => {
    await expect(f.engine.createChannel({ channelName: 'a', tags: [{ key: 'site', value: '' }] })).rejects.toThrow(/tag value must not be empty/);
    await f.engine.createChannel({ channelName: 'a' });
    const arn = (await f.engine.createChannel({ channelName: 'b' })).channelArn!;
    await expect(f.engine.tagResource({ resourceArn: arn, tags: [{ key: 'site', value: '' }] })).rejects.toThrow(InvalidRequestException);
    expect((await f.engine.listTagsForResource({ resourceArn: arn })).tags).toEqual([]);
  });

  it('refuses a misspelt member instead of dropping it silently', async () => {
    await expect(f.engine.createChannel({ channelName: 'a', retention: { numberOfDays: 3 } } as never)).rejects.toThrow(/Unrecognized key: "retention"/);
    await expect(f.engine.listChannels({})).resolves.toEqual({ channelSummaries: [] });
  });

  it('refuses a topic rule payload with a misspelt member, as the REST layer does, instead of dropping it', async () => {
    await f.engine.createChannel({ channelName: 'ch' });
    const topicRulePayload = { sql: "SELECT * FROM 'dt/weather/+/reading'", awsIotSqlversion: '2016-03-23', actions: [{ iotAnalytics: { channelName: 'ch' } }] };
    await expect(f.engine.createTopicRule({ ruleName: 'r', topicRulePayload } as never)).rejects.toThrow(/Unrecognized key: "awsIotSqlversion"/);
    expect((await f.engine.listTopicRules({})).rules).toEqual([]);
  });

  it('refuses a messageId that is not ASCII (service-2.json MessageId \\p{ASCII}*), before storing any of the batch', async () => {
    await f.engine.createChannel({ channelName: 'ch' });
    const payload = Buffer.from('{"t":1}');
    await expect(f.engine.batchPutMessage({ channelName: 'ch', messages: [{ messageId: 'ok', payload }, { messageId: 'é', payload }] })).rejects.toThrow(/messageId must be ASCII/);
    expect((await f.engine.sampleChannelData({ channelName: 'ch' })).payloads).toEqual([]);
  });

  it('refuses a deviceRegistryEnrich roleArn shorter than the model allows, as the REST layer did', async () => {
    await f.engine.createChannel({ channelName: 'ch' });
    await f.engine.createDatastore({ datastoreName: 'ds' });
    const activities = [
      { channel: { name: 'c', channelName: 'ch', next: 'e' } },
      { deviceRegistryEnrich: { name: 'e', attribute: 'registry', thingName: 'device_id', roleArn: 'short', next: 'd' } },
      { datastore: { name: 'd', datastoreName: 'ds' } },
    ];
    await expect(f.engine.createPipeline({ pipelineName: 'pl', pipelineActivities: activities })).rejects.toThrow(/roleArn must be at least 20 characters/);
  });
});
