import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchPutMessageCommand,
  CreateChannelCommand,
  CreateDatasetCommand,
  CreateDatasetContentCommand,
  CreateDatastoreCommand,
  CreatePipelineCommand,
  GetDatasetContentCommand,
  RunPipelineActivityCommand,
  SampleChannelDataCommand,
  StartPipelineReprocessingCommand,
  type IoTAnalyticsClient,
} from '@aws-sdk/client-iotanalytics';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudExtension } from '../../../cloud/api/start-cloud.ts';
import { NOT_DECODED } from '../../../cloud/engine/binary-messages.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';

// Issue 9, defect 3: binary payloads, through the AWS SDK: stored and sampled byte for byte, decoded by a
// lambda activity, refused with a reason everywhere else.

/** A little binary format: temperature * 100 as a big-endian int16. */
const reading = (celsius: number) => {
  const bytes = Buffer.alloc(2);
  bytes.writeInt16BE(Math.round(celsius * 100));
  return bytes;
};
const DECODER = `export default (messages) => messages.map((m) =>
  m.payload instanceof Uint8Array ? { temperature: new DataView(m.payload.buffer, m.payload.byteOffset, 2).getInt16(0) / 100 } : m);
`;

let dir: string;
let t: TestCloud;
let cloud: CloudExtension;
let client: IoTAnalyticsClient;
const warnings: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hedgerow-binary-'));
  writeFileSync(join(dir, 'decode_reading.mjs'), DECODER);
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
  t = await startTestCloud({ cloud: { lambdaDir: dir }, log });
  ({ cloud, client } = t);
});
afterAll(async () => {
  await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function csvOf(datasetName: string, sqlQuery: string): Promise<string[]> {
  await client.send(new CreateDatasetCommand({ datasetName, actions: [{ actionName: 'q', queryAction: { sqlQuery } }] }));
  await client.send(new CreateDatasetContentCommand({ datasetName }));
  await cloud.engine.idle();
  const content = await client.send(new GetDatasetContentCommand({ datasetName }));
  expect(content.status?.state, content.status?.reason).toBe('SUCCEEDED');
  const download = await fetch(content.entries![0]!.dataURI!);
  return (await download.text()).trim().split(/\r?\n/).map((line) => line.replaceAll('"', ''));
}

describe('binary payloads', () => {
  it('stores any blob as sent and gives the same bytes back from SampleChannelData', async () => {
    await client.send(new CreateChannelCommand({ channelName: 'blobs' }));
    const blobs = [randomBytes(300), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80, 0x00, 0xed, 0xa0, 0x80]), Buffer.from('[1,2,3]'), Buffer.from('"just a string"'), Buffer.from('{"t":1}')];
    const put = await client.send(new BatchPutMessageCommand({ channelName: 'blobs', messages: blobs.map((payload, i) => ({ messageId: `m${i}`, payload })) }));
    expect(put.batchPutMessageErrorEntries).toEqual([]);
    const sampled = await client.send(new SampleChannelDataCommand({ channelName: 'blobs', maxMessages: 10 }));
    const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
    expect(sampled.payloads!.map(hex).sort()).toEqual(blobs.map(hex).sort());
  });

  it('decodes a binary message in a lambda activity on its way to a dataset CSV, while a pipeline without one refuses it and logs why', async () => {
    await client.send(new CreateChannelCommand({ channelName: 'binary_readings' }));
    await client.send(new CreateDatastoreCommand({ datastoreName: 'decoded_store' }));
    await client.send(new CreateDatastoreCommand({ datastoreName: 'undecoded_store' }));
    await client.send(
      new CreatePipelineCommand({
        pipelineName: 'decode_pipeline',
        pipelineActivities: [
          { channel: { name: 'from_channel', channelName: 'binary_readings', next: 'decode' } },
          { lambda: { name: 'decode', lambdaName: 'decode_reading', batchSize: 10, next: 'label' } },
          { addAttributes: { name: 'label', attributes: { temperature: 'temp_c' }, next: 'to_store' } },
          { datastore: { name: 'to_store', datastoreName: 'decoded_store' } },
        ],
      }),
    );
    await client.send(
      new CreatePipelineCommand({
        pipelineName: 'no_decoder',
        pipelineActivities: [
          { channel: { name: 'from_channel', channelName: 'binary_readings', next: 'copy' } },
          { addAttributes: { name: 'copy', attributes: { temperature: 'temp_c' }, next: 'to_store' } },
          { datastore: { name: 'to_store', datastoreName: 'undecoded_store' } },
        ],
      }),
    );
    const put = await client.send(
      new BatchPutMessageCommand({
        channelName: 'binary_readings',
        messages: [
          { messageId: 'b1', payload: reading(21.5) },
          { messageId: 'b2', payload: reading(-3.25) },
          { messageId: 'j1', payload: Buffer.from('{"temperature": 9}') },
        ],
      }),
    );
    expect(put.batchPutMessageErrorEntries).toEqual([]);

    expect((await csvOf('decoded', 'SELECT temp_c FROM decoded_store ORDER BY temp_c'))).toEqual(['temp_c', '-3.25', '9', '21.5']);
    // Without a lambda, only the JSON message gets through; the two binary ones are refused, not the batch.
    expect((await csvOf('undecoded', 'SELECT temp_c FROM undecoded_store'))).toEqual(['temp_c', '9']);
    const refusal = warnings.find((w) => w.msg === 'pipeline refused binary messages' && w.pipeline === 'no_decoder');
    expect(refusal).toMatchObject({ activity: 'copy', refused: 2, reason: NOT_DECODED });
    expect(warnings.filter((w) => w.msg === 'pipeline refused binary messages' && w.pipeline === 'decode_pipeline')).toEqual([]);

    // Reprocessing replays the stored bytes the same way: decoded again by one pipeline, refused again by the other.
    const window = { startTime: new Date(Date.now() - 3_600_000), endTime: new Date(Date.now() + 3_600_000) };
    await client.send(new StartPipelineReprocessingCommand({ pipelineName: 'decode_pipeline', ...window }));
    await cloud.engine.idle();
    await client.send(new StartPipelineReprocessingCommand({ pipelineName: 'no_decoder', ...window }));
    await cloud.engine.idle();
    expect((await csvOf('decoded_again', 'SELECT temp_c FROM decoded_store ORDER BY temp_c'))).toEqual(['temp_c', '-3.25', '-3.25', '9', '9', '21.5', '21.5']);
    expect((await csvOf('undecoded_again', 'SELECT temp_c FROM undecoded_store'))).toEqual(['temp_c', '9', '9']);
  });

  it('runs RunPipelineActivity on a binary payload: a lambda decodes it, another activity refuses it and says why', async () => {
    const payloads = [reading(12.34), Buffer.from('{"temperature": 1}')];
    const lambda = await client.send(new RunPipelineActivityCommand({ pipelineActivity: { lambda: { name: 'decode', lambdaName: 'decode_reading', batchSize: 10 } }, payloads }));
    expect(lambda.payloads!.map((p) => JSON.parse(Buffer.from(p).toString('utf8')))).toEqual([{ temperature: 12.34 }, { temperature: 1 }]);
    const math = await client.send(new RunPipelineActivityCommand({ pipelineActivity: { math: { name: 'double', attribute: 'twice', math: 'temperature * 2' } }, payloads }));
    expect(math.payloads!.map((p) => JSON.parse(Buffer.from(p).toString('utf8')))).toEqual([{ temperature: 1, twice: 2 }]);
    expect(math.logResult).toContain(`payloads.0 refused: ${NOT_DECODED}.`);
  });
});
