import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateChannelCommand, InvalidRequestException, TagResourceCommand } from '@aws-sdk/client-iotanalytics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../api/cloud-fixture.ts';
import { TEST_KEY } from '../api/helpers.ts';

/**
 * Issue 9's disagreements, through real clients: the REST layer and the engine now decode with one
 * schema per shape, resolved to what service-2.json and the service say.
 */

const run = promisify(execFile);

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(async () => {
  await t.stop();
});

describe('one schema per shape, over the wire', () => {
  it('refuses a retentionPeriod that gives neither unlimited nor numberOfDays (the AWS SDK)', async () => {
    const error = await t.client.send(new CreateChannelCommand({ channelName: 'neither', retentionPeriod: {} })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestException);
    expect((error as Error).message).toMatch(/either unlimited: true or numberOfDays/);
  });

  it('refuses an empty tag value (the AWS SDK, which does not check lengths itself)', async () => {
    const { channelArn } = await t.client.send(new CreateChannelCommand({ channelName: 'tagged' }));
    const error = await t.client.send(new TagResourceCommand({ resourceArn: channelArn, tags: [{ key: 'site', value: '' }] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestException);
    expect((error as Error).message).toMatch(/tag value must not be empty/);
  });

  it('refuses retentionPeriod {} from boto3 too (botocore passes it: the model requires neither member)', async () => {
    const script = [
      'import boto3, botocore, sys',
      "c = boto3.client('iotanalytics', endpoint_url=sys.argv[1], region_name='eu-west-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])",
      'try:',
      "    c.create_channel(channelName='boto_neither', retentionPeriod={})",
      "    print('accepted')",
      'except botocore.exceptions.ClientError as e:',
      "    print(e.response['Error']['Code'])",
    ].join('\n');
    const { stdout } = await run('/usr/bin/python3', ['-c', script, t.cloud.endpoint, TEST_KEY.accessKeyId, TEST_KEY.secretAccessKey]);
    expect(stdout.trim()).toBe('InvalidRequestException');
  });
});
