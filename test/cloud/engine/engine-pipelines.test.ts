import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequestException, ResourceNotFoundException } from '../../../cloud/engine/errors.ts';
import { createFlow, datastoreRows, message, startEngine, type EngineFixture } from './engine-fixture.ts';

const rows = (f: EngineFixture, datastore = 'ds') => datastoreRows(f.engine, datastore);

const lambdaDir = (f: EngineFixture) => f.settings.lambdaDir;

describe('engine: pipelines', () => {
  let f: EngineFixture;
  beforeEach(async (context) => {
    const dir = join('/tmp', `hedgerow-lambda-${process.pid}-${context.task.id}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'double.mjs'), 'export default (messages) => messages.map((m) => ({ ...m, doubled: m.value * 2 }));\n');
    writeFileSync(join(dir, 'typed.mts'), 'export default async (messages: { value: number }[]) => messages.filter((m) => m.value > 1);\n');
    writeFileSync(join(dir, 'forever.mjs'), 'export default () => { for (;;) {} };\n');
    writeFileSync(join(dir, 'broken.mjs'), 'export default () => "not an array";\n');
    f = await startEngine({ lambdaDir: dir, lambdaTimeoutMs: 1500 });
  });
  afterEach(async () => f.close());

  it('runs messages through five activities into typed datastore rows', async () => {
    await createFlow(f.engine, [
      { filter: { filter: 'temperature > -50 AND temperature < 60' } },
      { math: { attribute: 'fahrenheit', math: 'temperature * 9 / 5 + 32' } },
      { addAttributes: { attributes: { station: 'device_id' } } },
      { removeAttributes: { attributes: ['station', 'debug'] } },
      { selectAttributes: { attributes: ['device_id', 'temperature', 'fahrenheit', 'ts'] } },
    ]);
    await f.engine.batchPutMessage({
      channelName: 'ch',
      messages: [message('a', { station: 's1', temperature: 20, debug: 'x', ts: 1 }), message('b', { station: 's2', temperature: 99, ts: 2 }), message('c', { station: 's3', temperature: -5, ts: 3 })],
    });
    expect(await rows(f)).toEqual([
      { temperature: 20, fahrenheit: 68, device_id: 's1', ts: 1, __dt: '2024-01-01 00:00:00.000' },
      { temperature: -5, fahrenheit: 23, device_id: 's3', ts: 3, __dt: '2024-01-01 00:00:00.000' },
    ]);
    const described = await f.engine.describeDatastore({ datastoreName: 'ds', includeStatistics: true });
    expect(described.datastore!.lastMessageArrivalTime).toEqual(new Date(f.time.now()));
    expect(described.statistics!.size!.estimatedSizeInBytes).toBeGreaterThan(0);
  });

  it('rejects a bad filter or math expression when the pipeline is created or updated', async () => {
    await expect(createFlow(f.engine, [{ filter: { filter: 'temperature >> 3' } }])).rejects.toThrow(/filter activity "a0"/);
    await expect(f.engine.createPipeline({
      pipelineName: 'p2',
      pipelineActivities: [
        { channel: { name: 'c', channelName: 'ch', next: 'm' } },
        { math: { name: 'm', attribute: 'x', math: 'evil(1)', next: 'd' } },
        { datastore: { name: 'd', datastoreName: 'ds' } },
      ],
    })).rejects.toThrow(/unknown function evil/);
    await f.engine.createPipeline({ pipelineName: 'ok', pipelineActivities: [{ channel: { name: 'c', channelName: 'ch', next: 'd' } }, { datastore: { name: 'd', datastoreName: 'ds' } }] });
    await expect(f.engine.updatePipeline({
      pipelineName: 'ok',
      pipelineActivities: [{ channel: { name: 'c', channelName: 'ch', next: 'f' } }, { filter: { name: 'f', filter: 'a +', next: 'd' } }, { datastore: { name: 'd', datastoreName: 'ds' } }],
    })).rejects.toThrow(InvalidRequestException);
    expect((await f.engine.describePipeline({ pipelineName: 'ok' })).pipeline!.activities).toHaveLength(2);
  });

  it('refuses a pipeline whose channel or datastore does not exist', async () => {
    await expect(f.engine.createPipeline({
      pipelineName: 'p', pipelineActivities: [{ channel: { name: 'c', channelName: 'ghost', next: 'd' } }, { datastore: { name: 'd', datastoreName: 'nothing' } }],
    })).rejects.toThrow(/channel "ghost" and datastore "nothing" do not exist/);
  });

  it('gives each pipeline on a channel its own copy of the messages', async () => {
    await createFlow(f.engine, [{ math: { attribute: 'v', math: 'v * 10' } }], { channel: 'ch', datastore: 'ds', pipeline: 'p1' });
    await f.engine.createDatastore({ datastoreName: 'ds2' });
    await f.engine.createPipeline({
      pipelineName: 'p2',
      pipelineActivities: [{ channel: { name: 'c', channelName: 'ch', next: 'm' } }, { math: { name: 'm', attribute: 'v', math: 'v + 1', next: 'd' } }, { datastore: { name: 'd', datastoreName: 'ds2' } }],
    });
    await f.engine.batchPutMessage({ channelName: 'ch', messages: [message('x', { v: 2 })] });
    expect((await rows(f, 'ds')).map((r) => r.v)).toEqual([20]);
    expect((await rows(f, 'ds2')).map((r) => r.v)).toEqual([3]);
  });

  it('runs lambda modules from the configured folder, in TypeScript or JavaScript', async () => {
    await createFlow(f.engine, [{ lambda: { lambdaName: 'double', batchSize: 2 } }, { lambda: { lambdaName: 'typed', batchSize: 10 } }]);
    await f.engine.batchPutMessage({ channelName: 'ch', messages: [message('a', { value: 1 }), message('b', { value: 2 }), message('c', { value: 3 })] });
    expect((await rows(f)).map((r) => [r.value, r.doubled])).toEqual([[2, 4], [3, 6]]);
  });

  it('refuses a lambda that is not in the folder, naming the folder', async () => {
    await expect(createFlow(f.engine, [{ lambda: { lambdaName: 'missing', batchSize: 1 } }])).rejects.toThrow(new RegExp(`missing.ts or missing.js .* in ${lambdaDir(f)}`));
  });

  it('stops a lambda that runs too long, drops its batch and keeps processing', async () => {
    await createFlow(f.engine, [{ lambda: { lambdaName: 'forever', batchSize: 1 } }]);
    await f.engine.batchPutMessage({ channelName: 'ch', messages: [message('a', { value: 1 })] });
    expect(await rows(f)).toEqual([]);
    await f.engine.updatePipeline({ pipelineName: 'pl', pipelineActivities: [{ channel: { name: 'c', channelName: 'ch', next: 'd' } }, { datastore: { name: 'd', datastoreName: 'ds' } }] });
    await f.engine.batchPutMessage({ channelName: 'ch', messages: [message('b', { value: 2 })] });
    expect((await rows(f)).map((r) => r.value)).toEqual([2]);
    expect((await f.engine.sampleChannelData({ channelName: 'ch' })).payloads).toHaveLength(2);
  });

  it('previews activities with RunPipelineActivity', async () => {
    const run = await f.engine.runPipelineActivity({
      pipelineActivity: { math: { name: 'f', attribute: 'f', math: 'c * 9 / 5 + 32' } },
      payloads: [Buffer.from('{"c":100}'), Buffer.from('{"c":0}')],
    });
    expect(run.payloads!.map((p) => JSON.parse(Buffer.from(p).toString()))).toEqual([{ c: 100, f: 212 }, { c: 0, f: 32 }]);
    expect(run.logResult).toMatch(/2 in, 2 out/);
    const filtered = await f.engine.runPipelineActivity({ pipelineActivity: { filter: { name: 'hot', filter: 'c > 50' } }, payloads: [Buffer.from('{"c":100}'), Buffer.from('{"c":0}')] });
    expect(filtered.payloads).toHaveLength(1);
    await expect(f.engine.runPipelineActivity({ pipelineActivity: { lambda: { name: 'l', lambdaName: 'broken', batchSize: 1 } }, payloads: [Buffer.from('{}')] })).rejects.toThrow(/must return an array/);
    await expect(f.engine.runPipelineActivity({ pipelineActivity: { channel: { name: 'c', channelName: 'ch' } }, payloads: [Buffer.from('{}')] })).rejects.toThrow(/cannot be run on its own/);
    await expect(f.engine.runPipelineActivity({ pipelineActivity: { filter: { name: 'f', filter: 'a > 1' } }, payloads: Array.from({ length: 11 }, () => Buffer.from('{}')) })).rejects.toThrow(InvalidRequestException);
    const binary = await f.engine.runPipelineActivity({ pipelineActivity: { filter: { name: 'f', filter: 'a > 1' } }, payloads: [Buffer.from('nope')] });
    expect(binary.payloads).toEqual([]);
    expect(binary.logResult).toMatch(/payloads\.0 refused: the message payload is not a JSON object .*decode it with a lambda activity first/);
    await expect(f.engine.runPipelineActivity({ pipelineActivity: { filter: { name: 'f', filter: 'a > 1' } }, payloads: [Buffer.from('{"a-b":1}')] })).rejects.toThrow(/payloads.0/);
  });

  it('enriches messages from the device registry and the last status message', async () => {
    await f.engine.putThing({ thingName: 'station_1', thingTypeName: 'weather_station', attributes: { field: 'north' } });
    await f.engine.handleMqttMessage('dt/weather/station_1/status', Buffer.from('{"battery":87,"firmware":"1.2"}'));
    await createFlow(f.engine, [
      { deviceRegistryEnrich: { attribute: 'registry', thingName: 'device_id', roleArn: 'arn:aws:iam::000000000000:role/x' } },
      { deviceShadowEnrich: { attribute: 'shadow', thingName: 'device_id', roleArn: 'arn:aws:iam::000000000000:role/x' } },
    ]);
    await f.engine.batchPutMessage({ channelName: 'ch', messages: [message('a', { device_id: 'station_1' }), message('b', { device_id: 'unknown' })] });
    const [known, unknown] = await rows(f);
    expect(JSON.parse(known!.registry as string)).toMatchObject({ thingName: 'station_1', thingTypeName: 'weather_station', attributes: { field: 'north' } });
    expect(JSON.parse(known!.shadow as string)).toMatchObject({ state: { reported: { battery: 87, firmware: '1.2' } }, version: 1 });
    expect(unknown!.registry).toBeNull();
    expect(await f.engine.getThingShadow({ thingName: 'station_1' })).toMatchObject({ version: 1 });
    await expect(f.engine.describeThing({ thingName: 'ghost' })).rejects.toThrow(ResourceNotFoundException);
  });

  it('lists, describes and deletes pipelines', async () => {
    await createFlow(f.engine);
    const listed = await f.engine.listPipelines({});
    expect(listed.pipelineSummaries!.map((p) => p.pipelineName)).toEqual(['pl']);
    const { pipeline } = await f.engine.describePipeline({ pipelineName: 'pl' });
    expect(pipeline!.activities).toEqual([{ channel: { name: 'in', channelName: 'ch', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'ds' } }]);
    await f.engine.deletePipeline({ pipelineName: 'pl' });
    await expect(f.engine.describePipeline({ pipelineName: 'pl' })).rejects.toThrow(ResourceNotFoundException);
    await f.engine.batchPutMessage({ channelName: 'ch', messages: [message('a', { v: 1 })] });
    expect(await rows(f)).toEqual([]);
  });
});
