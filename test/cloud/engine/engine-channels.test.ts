import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequestException, ResourceAlreadyExistsException, ResourceNotFoundException, ServiceUnavailableException } from '../../../cloud/engine/errors.ts';
import { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import pino from 'pino';
import { message, startEngine, type EngineFixture } from './engine-fixture.ts';

describe('engine: channels', () => {
  let f: EngineFixture;
  beforeEach(async () => {
    f = await startEngine();
  });
  afterEach(async () => f.close());

  it('creates, describes, updates, lists and deletes a channel', async () => {
    const created = await f.engine.createChannel({ channelName: 'weather', retentionPeriod: { numberOfDays: 7 }, tags: [{ key: 'site', value: 'farm' }] });
    expect(created).toEqual({ channelName: 'weather', channelArn: 'arn:aws:iotanalytics:eu-west-1:000000000000:channel/weather', retentionPeriod: { numberOfDays: 7 } });
    const { channel } = await f.engine.describeChannel({ channelName: 'weather' });
    expect(channel).toMatchObject({ name: 'weather', status: 'ACTIVE', retentionPeriod: { numberOfDays: 7 }, creationTime: new Date(f.time.now()) });
    expect(channel!.lastMessageArrivalTime).toBeUndefined();
    await f.time.advance(1000);
    await f.engine.updateChannel({ channelName: 'weather', retentionPeriod: { unlimited: true } });
    const after = await f.engine.describeChannel({ channelName: 'weather' });
    expect(after.channel).toMatchObject({ retentionPeriod: { unlimited: true }, lastUpdateTime: new Date(f.time.now()) });
    expect((await f.engine.listChannels({})).channelSummaries!.map((c) => c.channelName)).toEqual(['weather']);
    expect((await f.engine.listTagsForResource({ resourceArn: created.channelArn! })).tags).toEqual([{ key: 'site', value: 'farm' }]);
    await f.engine.deleteChannel({ channelName: 'weather' });
    await expect(f.engine.describeChannel({ channelName: 'weather' })).rejects.toThrow(ResourceNotFoundException);
  });

  it('refuses a second channel of the same name, saying which', async () => {
    await f.engine.createChannel({ channelName: 'weather' });
    const error = await f.engine.createChannel({ channelName: 'Weather' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceAlreadyExistsException);
    expect((error as ResourceAlreadyExistsException).status).toBe(409);
    expect((error as ResourceAlreadyExistsException).resourceArn).toContain('channel/Weather');
  });

  for (const channelName of ['', '__hidden', 'has-dash', 'x'.repeat(129), 'space here', 42, null]) {
    it(`refuses the channel name ${JSON.stringify(channelName)}`, async () => {
      await expect(f.engine.createChannel({ channelName } as never)).rejects.toThrow(InvalidRequestException);
    });
  }

  it('refuses customer-managed storage and a retention period that is both and neither', async () => {
    await expect(f.engine.createChannel({ channelName: 'a', channelStorage: { customerManagedS3: { bucket: 'b', roleArn: 'r' } } })).rejects.toThrow(/serviceManagedS3/);
    await expect(f.engine.createChannel({ channelName: 'a', retentionPeriod: { unlimited: true, numberOfDays: 3 } })).rejects.toThrow(/either unlimited/);
    await expect(f.engine.createChannel({ channelName: 'a', retentionPeriod: {} })).rejects.toThrow(InvalidRequestException);
  });

  it('stores messages (binary ones as sent), reports bad JSON objects per message and drops repeated messageIds', async () => {
    await f.engine.createChannel({ channelName: 'ch' });
    const result = await f.engine.batchPutMessage({
      channelName: 'ch',
      messages: [
        message('m1', { t: 1 }),
        { messageId: 'm2', payload: Buffer.from('not json') },
        message('m3', [1, 2]),
        message('m4', { 'bad-name': 1 }),
        message('m5', { a: 1, A: 2 }),
        { messageId: 'm6', payload: Buffer.from([0xff, 0x00, 0x13]) },
      ],
    });
    // Not JSON objects (m2, m3, m6) are binary messages, kept as sent for a lambda activity to decode.
    expect(result.batchPutMessageErrorEntries!.map((e) => [e.messageId, e.errorCode])).toEqual([['m4', 'InvalidRequestException'], ['m5', 'InvalidRequestException']]);
    expect(result.batchPutMessageErrorEntries![1]!.errorMessage).toMatch(/appears twice/);
    await f.time.advance(5000);
    expect((await f.engine.batchPutMessage({ channelName: 'ch', messages: [message('m1', { t: 99 }), message('m7', { t: 7 })] })).batchPutMessageErrorEntries).toEqual([]);
    const sample = await f.engine.sampleChannelData({ channelName: 'ch' });
    const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
    const stored = [Buffer.from('{"t":7}'), Buffer.from([0xff, 0x00, 0x13]), Buffer.from('[1,2]'), Buffer.from('not json'), Buffer.from('{"t":1}')];
    expect(sample.payloads!.map(hex)).toEqual(stored.map(hex));
    const described = await f.engine.describeChannel({ channelName: 'ch', includeStatistics: true });
    expect(described.channel!.lastMessageArrivalTime).toEqual(new Date(f.time.now()));
    expect(described.statistics!.size!.estimatedSizeInBytes).toBeGreaterThan(0);
  });

  it('refuses a batch over 100 messages, with repeated ids, or for a missing channel', async () => {
    await f.engine.createChannel({ channelName: 'ch' });
    const many = Array.from({ length: 101 }, (_, i) => message(`m${i}`, { i }));
    await expect(f.engine.batchPutMessage({ channelName: 'ch', messages: many })).rejects.toThrow(/at most 100/);
    await expect(f.engine.batchPutMessage({ channelName: 'ch', messages: [message('a', {}), message('a', {})] })).rejects.toThrow(/appears twice/);
    await expect(f.engine.batchPutMessage({ channelName: 'ch', messages: [] })).rejects.toThrow(InvalidRequestException);
    await expect(f.engine.batchPutMessage({ channelName: 'nope', messages: [message('a', {})] })).rejects.toThrow(ResourceNotFoundException);
  });

  it('samples 1..10 messages within a start-inclusive, end-exclusive window', async () => {
    await f.engine.createChannel({ channelName: 'ch' });
    const t0 = f.time.now();
    for (let i = 0; i < 12; i += 1) {
      await f.engine.batchPutMessage({ channelName: 'ch', messages: [message(`m${i}`, { i })] });
      await f.time.advance(1000);
    }
    expect((await f.engine.sampleChannelData({ channelName: 'ch' })).payloads).toHaveLength(10);
    const windowed = await f.engine.sampleChannelData({ channelName: 'ch', startTime: new Date(t0 + 2000), endTime: new Date(t0 + 5000), maxMessages: 10 });
    expect(windowed.payloads!.map((p) => JSON.parse(Buffer.from(p).toString()).i)).toEqual([4, 3, 2]);
    await expect(f.engine.sampleChannelData({ channelName: 'ch', maxMessages: 11 })).rejects.toThrow(InvalidRequestException);
    await expect(f.engine.sampleChannelData({ channelName: 'ch', startTime: new Date(t0 + 5), endTime: new Date(t0) })).rejects.toThrow(/before endTime/);
  });

  it('pages listings with nextToken', async () => {
    for (const name of ['e', 'a', 'd', 'b', 'c']) await f.engine.createChannel({ channelName: name });
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await f.engine.listChannels({ maxResults: 2, ...(nextToken ? { nextToken } : {}) });
      seen.push(...page.channelSummaries!.map((c) => c.channelName!));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken);
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(pages).toBe(3);
    await expect(f.engine.listChannels({ nextToken: 'garbage!' })).rejects.toThrow(/nextToken is not valid/);
    await expect(f.engine.listChannels({ maxResults: 0 })).rejects.toThrow(InvalidRequestException);
  });
});

describe('engine: not started', () => {
  it('answers ServiceUnavailableException instead of crashing', async () => {
    const engine = new AnalyticsEngine({ settings: cloudSettings.parse({ mqtt: { enabled: false } }), log: pino({ level: 'silent' }) });
    await expect(engine.listChannels({})).rejects.toThrow(ServiceUnavailableException);
  });
});
