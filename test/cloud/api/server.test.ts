import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { API_ERROR_STATUS, ERROR_DOCS } from '../../../cloud/api/api-errors.ts';
import { IOT_ANALYTICS_OPERATIONS, IOT_CORE_OPERATIONS, operationTable } from '../../../cloud/api/operation-table.ts';
import { notImplemented } from '../../../cloud/api/operations.ts';
import { ERROR_STATUS, InvalidRequestException, ResourceAlreadyExistsException, ResourceNotFoundException } from '../../../cloud/engine/errors.ts';
import { errorOf, recordingEngine, signedInject, TEST_KEY, testApp, type TestApp } from './helpers.ts';

// Method, path and success status of every operation, as botocore's iotanalytics/2017-11-27/service-2.json has them.
const MODEL: Record<string, [string, string, number]> = {
  BatchPutMessage: ['POST', '/messages/batch', 200],
  CancelPipelineReprocessing: ['DELETE', '/pipelines/{pipelineName}/reprocessing/{reprocessingId}', 200],
  CreateChannel: ['POST', '/channels', 201],
  CreateDataset: ['POST', '/datasets', 201],
  CreateDatasetContent: ['POST', '/datasets/{datasetName}/content', 200],
  CreateDatastore: ['POST', '/datastores', 201],
  CreatePipeline: ['POST', '/pipelines', 201],
  DeleteChannel: ['DELETE', '/channels/{channelName}', 204],
  DeleteDataset: ['DELETE', '/datasets/{datasetName}', 204],
  DeleteDatasetContent: ['DELETE', '/datasets/{datasetName}/content', 204],
  DeleteDatastore: ['DELETE', '/datastores/{datastoreName}', 204],
  DeletePipeline: ['DELETE', '/pipelines/{pipelineName}', 204],
  DescribeChannel: ['GET', '/channels/{channelName}', 200],
  DescribeDataset: ['GET', '/datasets/{datasetName}', 200],
  DescribeDatastore: ['GET', '/datastores/{datastoreName}', 200],
  DescribeLoggingOptions: ['GET', '/logging', 200],
  DescribePipeline: ['GET', '/pipelines/{pipelineName}', 200],
  GetDatasetContent: ['GET', '/datasets/{datasetName}/content', 200],
  ListChannels: ['GET', '/channels', 200],
  ListDatasetContents: ['GET', '/datasets/{datasetName}/contents', 200],
  ListDatasets: ['GET', '/datasets', 200],
  ListDatastores: ['GET', '/datastores', 200],
  ListPipelines: ['GET', '/pipelines', 200],
  ListTagsForResource: ['GET', '/tags', 200],
  PutLoggingOptions: ['PUT', '/logging', 200],
  RunPipelineActivity: ['POST', '/pipelineactivities/run', 200],
  SampleChannelData: ['GET', '/channels/{channelName}/sample', 200],
  StartPipelineReprocessing: ['POST', '/pipelines/{pipelineName}/reprocessing', 200],
  TagResource: ['POST', '/tags', 204],
  UntagResource: ['DELETE', '/tags', 204],
  UpdateChannel: ['PUT', '/channels/{channelName}', 200],
  UpdateDataset: ['PUT', '/datasets/{datasetName}', 200],
  UpdateDatastore: ['PUT', '/datastores/{datastoreName}', 200],
  UpdatePipeline: ['PUT', '/pipelines/{pipelineName}', 200],
};

let current: TestApp | undefined;
afterEach(async () => {
  await current?.app.close();
  current = undefined;
});

async function setup(answers: Parameters<typeof recordingEngine>[0] = {}, options: Parameters<typeof testApp>[1] = {}) {
  const recorder = recordingEngine(answers);
  current = await testApp(recorder.engine, options);
  const call = (c: Parameters<typeof signedInject>[2]) => signedInject(current!.app, current!.clock.now, c);
  return { ...recorder, ...current, call };
}

describe('operation table', () => {
  it('has every IoT Analytics operation once, with the model method, path and status', () => {
    expect(Object.keys(MODEL).sort()).toEqual([...IOT_ANALYTICS_OPERATIONS].sort());
    expect(operationTable.map((o) => o.name).sort()).toEqual([...IOT_ANALYTICS_OPERATIONS, ...IOT_CORE_OPERATIONS].sort());
    for (const op of operationTable.filter((o) => o.service === 'iotanalytics')) {
      const [method, path, status] = MODEL[op.name]!;
      expect([op.method, op.path.replace(/:(\w+)/g, '{$1}'), op.status], op.name).toEqual([method, path, status]);
    }
  });

  it('documents every error code it can send, with the status AWS uses', () => {
    const codes = [...Object.keys(API_ERROR_STATUS), ...Object.keys(ERROR_STATUS)];
    for (const code of codes) expect(ERROR_DOCS[code as keyof typeof ERROR_DOCS], code).toMatch(/^.{20,}[:;].+\.$/);
    expect(Object.keys(ERROR_DOCS).sort()).toEqual(codes.sort());
  });

  it('answers an operation marked not implemented with 501 and the reason', async () => {
    const { call } = await setup({}, { operations: [notImplemented('ContainerThing', 'POST', '/containers', 'Hedgerow runs no containers')] });
    const response = await call({ method: 'POST', url: '/containers', body: {} });
    expect(errorOf(response)).toEqual({
      type: 'NotImplementedException',
      status: 501,
      message: 'ContainerThing is not implemented by Hedgerow: Hedgerow runs no containers',
    });
  });
});

describe('IoT Core topic rules', () => {
  const payload = { sql: "SELECT * FROM 'dt/weather/+/reading'", actions: [{ iotAnalytics: { channelName: 'weather', batchMode: true } }] };

  it('serves IoT Core paths, signed for iot, with tags from x-amz-tagging', async () => {
    const { call, calls } = await setup({ createTopicRule: () => undefined, getTopicRule: () => ({ ruleArn: 'arn:aws:iot:eu-west-1:000000000000:rule/weather', rule: { ruleName: 'weather', sql: payload.sql, createdAt: new Date(1_700_000_000_000) } }) });
    const created = await call({ method: 'POST', url: '/rules/weather', body: payload, service: 'iot', headers: { 'x-amz-tagging': 'team=school%201&public=true' } });
    expect(created.statusCode).toBe(200);
    expect(calls[0]).toEqual({ method: 'createTopicRule', input: { ruleName: 'weather', topicRulePayload: payload, tags: [{ key: 'team', value: 'school 1' }, { key: 'public', value: 'true' }] } });
    expect(JSON.parse((await call({ method: 'GET', url: '/rules/weather', service: 'iot' })).body).rule.createdAt).toBe(1_700_000_000);
    expect(errorOf(await call({ method: 'GET', url: '/rules/weather' })).message).toBe("Credential should be scoped to correct service: 'iot'.");
  });

  it('refuses rule actions other than iotAnalytics by name', async () => {
    const { call, calls } = await setup();
    const lambda = { ...payload, actions: [{ lambda: { functionArn: 'arn:aws:lambda:x' } }] };
    expect(errorOf(await call({ method: 'POST', url: '/rules/weather', body: lambda, service: 'iot' })).message).toMatch(/actions\.0: Unrecognized key: "lambda"/);
    expect(calls).toEqual([]);
  });
});

describe('IoT Core things', () => {
  it('creates idempotently, conflicts on other settings, and merges attributes on update as IoT Core does', async () => {
    const stored = new Map<string, { thingName: string; thingTypeName?: string; attributes?: Record<string, string> }>();
    const { call } = await setup({
      describeThing: (input: { thingName: string }) => {
        const thing = stored.get(input.thingName);
        if (!thing) throw new ResourceNotFoundException(`Thing "${input.thingName}" is not registered.`);
        return thing;
      },
      putThing: (thing: { thingName: string }) => void stored.set(thing.thingName, thing),
    });
    const create = { thingTypeName: 'station', attributePayload: { attributes: { school: 'north', room: '4b' } } };
    expect((await call({ method: 'POST', url: '/things/north_1', body: create, service: 'iot' })).statusCode).toBe(200);
    expect((await call({ method: 'POST', url: '/things/north_1', body: create, service: 'iot' })).statusCode).toBe(200);
    expect(errorOf(await call({ method: 'POST', url: '/things/north_1', body: { thingTypeName: 'box' }, service: 'iot' })).type).toBe('ResourceAlreadyExistsException');
    await call({ method: 'PATCH', url: '/things/north_1', body: { attributePayload: { attributes: { room: '', lat: '52.1' }, merge: true } }, service: 'iot' });
    const described = JSON.parse((await call({ method: 'GET', url: '/things/north_1', service: 'iot' })).body);
    expect(described).toEqual({ thingName: 'north_1', thingTypeName: 'station', attributes: { school: 'north', lat: '52.1' }, thingId: 'north_1', defaultClientId: 'north_1' });
  });
});

describe('authentication', () => {
  it('refuses unsigned calls, unknown keys, wrong secrets and stale dates as AWS does, before the engine sees them', async () => {
    const { app, call, calls, clock } = await setup();
    const unsigned = await app.inject({ method: 'GET', url: '/channels' });
    expect(errorOf(unsigned)).toEqual({ type: 'MissingAuthenticationTokenException', status: 403, message: 'Missing Authentication Token' });
    expect(unsigned.headers['x-amzn-requestid']).toMatch(/^req-\d+$/);

    const unknownKey = await call({ method: 'GET', url: '/channels', key: { ...TEST_KEY, accessKeyId: 'AKIDSOMEONEELSE' } });
    expect(errorOf(unknownKey)).toEqual({ type: 'UnrecognizedClientException', status: 403, message: 'The security token included in the request is invalid.' });

    const wrongSecret = await call({ method: 'GET', url: '/channels', key: { ...TEST_KEY, secretAccessKey: 'not-the-secret-at-all!!' } });
    expect(errorOf(wrongSecret)).toMatchObject({ type: 'InvalidSignatureException', status: 403 });
    expect(errorOf(wrongSecret).message).toMatch(/^The request signature we calculated does not match the signature you provided/);

    const stale = await call({ method: 'GET', url: '/channels', time: clock.now - 20 * 60_000 });
    expect(errorOf(stale)).toMatchObject({ type: 'InvalidSignatureException', status: 403, message: expect.stringMatching(/^Signature expired: /) });

    const otherService = await call({ method: 'GET', url: '/channels', service: 'iot' });
    expect(errorOf(otherService).message).toBe("Credential should be scoped to correct service: 'iotanalytics'.");
    expect(calls).toEqual([]);
  });

  it('takes only the configured region, eu-west-1 unless api.region says otherwise', async () => {
    const { call } = await setup({ listChannels: () => ({ channelSummaries: [] }) }, { settings: { region: 'eu-north-1' } });
    expect((await call({ method: 'GET', url: '/channels', region: 'eu-north-1' })).statusCode).toBe(200);
    expect(errorOf(await call({ method: 'GET', url: '/channels', region: 'us-east-1' })).type).toBe('InvalidSignatureException');
    const pinned = await setup({ listChannels: () => ({ channelSummaries: [] }) });
    expect((await pinned.call({ method: 'GET', url: '/channels', region: 'eu-west-1' })).statusCode).toBe(200);
    expect(errorOf(await pinned.call({ method: 'GET', url: '/channels', region: 'eu-north-1' }))).toMatchObject({
      type: 'InvalidSignatureException',
      status: 403,
      message: expect.stringMatching(/^Credential should be scoped to a valid region, not 'eu-north-1'\. This endpoint's region is 'eu-west-1'/),
    });
  });

  it('hides which paths exist from unsigned callers and names the bad path to signed ones', async () => {
    const { app, call } = await setup();
    expect(errorOf(await app.inject({ method: 'GET', url: '/admin' })).type).toBe('MissingAuthenticationTokenException');
    const signed = await call({ method: 'PATCH', url: '/channels' });
    expect(errorOf(signed)).toMatchObject({ type: 'UnknownOperationException', status: 404, message: expect.stringContaining('PATCH /channels') });
  });
});

describe('wire format', () => {
  it('creates with 201, passes typed input to the engine and returns its answer as JSON', async () => {
    const { call, calls } = await setup({ createChannel: () => ({ channelName: 'weather', channelArn: 'arn:aws:iotanalytics:eu-west-1:000000000000:channel/weather' }) });
    const response = await call({ method: 'POST', url: '/channels', body: { channelName: 'weather', retentionPeriod: { numberOfDays: 30 } } });
    expect(response.statusCode).toBe(201);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual({ channelName: 'weather', channelArn: 'arn:aws:iotanalytics:eu-west-1:000000000000:channel/weather' });
    expect(calls).toEqual([{ method: 'createChannel', input: { channelName: 'weather', retentionPeriod: { numberOfDays: 30 } } }]);
  });

  it('sends timestamps as epoch seconds and payloads as base64', async () => {
    const created = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 250));
    const { call, calls } = await setup({
      describeChannel: () => ({ channel: { name: 'weather', creationTime: created, status: 'ACTIVE' } }),
      sampleChannelData: () => ({ payloads: [Buffer.from('{"t":1}')] }),
    });
    const described = JSON.parse((await call({ method: 'GET', url: '/channels/weather?includeStatistics=true' })).body);
    expect(described.channel.creationTime).toBe(created.getTime() / 1000);
    const sample = await call({ method: 'GET', url: '/channels/weather/sample?maxMessages=3&startTime=2026-01-01T00%3A00%3A00.500Z&endTime=1767312000' });
    expect(JSON.parse(sample.body)).toEqual({ payloads: [Buffer.from('{"t":1}').toString('base64')] });
    expect(calls[0]!.input).toEqual({ channelName: 'weather', includeStatistics: true });
    expect(calls[1]!.input).toEqual({
      channelName: 'weather',
      maxMessages: 3,
      startTime: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 500)),
      endTime: new Date(1767312000 * 1000),
    });
  });

  it('decodes base64 message payloads for the engine and passes partial failures through with 200', async () => {
    const entries = [{ messageId: 'b', errorCode: 'InvalidRequestException', errorMessage: 'not JSON' }];
    const { call, calls } = await setup({ batchPutMessage: () => ({ batchPutMessageErrorEntries: entries }) });
    const messages = [
      { messageId: 'a', payload: Buffer.from('{"x":1}').toString('base64') },
      { messageId: 'b', payload: Buffer.from([0xff, 0x00]).toString('base64') },
    ];
    const response = await call({ method: 'POST', url: '/messages/batch', body: { channelName: 'weather', messages } });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ batchPutMessageErrorEntries: entries });
    const input = calls[0]!.input as { messages: Array<{ payload: Buffer }> };
    expect(input.messages.map((m) => [...m.payload])).toEqual([[...Buffer.from('{"x":1}')], [0xff, 0x00]]);
  });

  it('reads repeated query names as lists (UntagResource tagKeys) and answers 204 with no body', async () => {
    const { call, calls } = await setup({ untagResource: () => undefined });
    const arn = encodeURIComponent('arn:aws:iotanalytics:eu-west-1:000000000000:channel/weather');
    const response = await call({ method: 'DELETE', url: `/tags?resourceArn=${arn}&tagKeys=a%20b&tagKeys=c%2Bd` });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(calls[0]!.input).toEqual({ resourceArn: 'arn:aws:iotanalytics:eu-west-1:000000000000:channel/weather', tagKeys: ['a b', 'c+d'] });
  });
});

describe('errors', () => {
  it('refuses broken JSON, wrong types, unknown keys and oversized bodies with InvalidRequestException and a reason', async () => {
    const { call, calls } = await setup({}, { settings: { bodyLimitBytes: 4096 } });
    const broken = errorOf(await call({ method: 'POST', url: '/channels', rawBody: '{"channelName": "a",' }));
    expect(broken).toMatchObject({ type: 'InvalidRequestException', status: 400, message: expect.stringMatching(/^The request body is not valid JSON: /) });
    const wrongType = errorOf(await call({ method: 'POST', url: '/channels', body: { channelName: 42 } }));
    expect(wrongType.message).toBe('Invalid request body: channelName: channelName must be a string');
    const unknownKey = errorOf(await call({ method: 'POST', url: '/channels', body: { channelName: 'a', retention: 3 } }));
    expect(unknownKey.message).toMatch(/Unrecognized key: "retention"/);
    const tooBig = errorOf(await call({ method: 'POST', url: '/channels', body: { channelName: 'a'.repeat(5000) } }));
    expect(tooBig).toMatchObject({ type: 'InvalidRequestException', status: 400, message: expect.stringMatching(/larger than the 4096 byte limit/) });
    const tooMany = errorOf(
      await call({ method: 'POST', url: '/messages/batch', body: { channelName: 'a', messages: Array.from({ length: 101 }, (_, i) => ({ messageId: `${i}`, payload: 'e30=' })) } }),
    );
    expect(tooMany.message).toMatch(/at most 100 messages/);
    const twice = errorOf(await call({ method: 'POST', url: '/messages/batch', body: { channelName: 'a', messages: [{ messageId: 'x', payload: 'e30=' }, { messageId: 'x', payload: 'e30=' }] } }));
    expect(twice.message).toMatch(/messageId "x" appears twice/);
    const badName = errorOf(await call({ method: 'GET', url: '/channels/__hidden' }));
    expect(badName.message).toMatch(/channelName must not start with "__"/);
    const badQuery = errorOf(await call({ method: 'GET', url: '/channels?maxResults=0' }));
    expect(badQuery.message).toBe('Invalid query parameters: maxResults: must be 1-250');
    expect(calls).toEqual([]);
  });

  it('passes engine errors through with their type, status and extra fields', async () => {
    const { call } = await setup({
      createChannel: () => {
        throw new ResourceAlreadyExistsException('Channel weather already exists.', 'weather', 'arn:aws:iotanalytics:eu-west-1:000000000000:channel/weather');
      },
      describeChannel: () => {
        throw new ResourceNotFoundException('No channel named rain.');
      },
      deleteChannel: () => {
        throw new InvalidRequestException('Channel weather is used by pipeline p.');
      },
    });
    const exists = await call({ method: 'POST', url: '/channels', body: { channelName: 'weather' } });
    expect(errorOf(exists)).toEqual({ type: 'ResourceAlreadyExistsException', status: 409, message: 'Channel weather already exists.' });
    expect(JSON.parse(exists.body)).toMatchObject({ resourceId: 'weather', resourceArn: 'arn:aws:iotanalytics:eu-west-1:000000000000:channel/weather' });
    expect(errorOf(await call({ method: 'GET', url: '/channels/rain' }))).toEqual({ type: 'ResourceNotFoundException', status: 404, message: 'No channel named rain.' });
    expect(errorOf(await call({ method: 'DELETE', url: '/channels/weather' })).status).toBe(400);
  });

  it('turns an unexpected failure into InternalFailureException without leaking it', async () => {
    const { call } = await setup({
      listChannels: () => {
        throw new Error('SQLITE_CORRUPT: database disk image is malformed at /secret/path/engine.db');
      },
    });
    const response = await call({ method: 'GET', url: '/channels' });
    const error = errorOf(response);
    expect(error).toMatchObject({ type: 'InternalFailureException', status: 500 });
    expect(response.body).not.toMatch(/SQLITE|secret|engine\.db/);
    expect(error.message).toContain(response.headers['x-amzn-requestid'] as string);
  });
});

describe('shutdown', () => {
  it('closes even while a client is still sending a body it will never finish', async () => {
    const { app } = await setup({}, { settings: { bodyLimitBytes: 2048 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined); // the reset at close is the point
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /channels HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n{"channelName": "`);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await app.close();
    await closed;
    expect(socket.destroyed).toBe(true);
    current = undefined;
  });
});
