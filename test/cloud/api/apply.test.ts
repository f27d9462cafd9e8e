import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeChannelCommand, DescribeDatasetCommand, DescribePipelineCommand, ListTagsForResourceCommand } from '@aws-sdk/client-iotanalytics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { ApplyError, applyResources, covers, readResourceFile, type ApplyReport } from '../../../cloud/api/apply.ts';
import { signedFetch } from '../../../cloud/api/signed-fetch.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';
import { TEST_KEY } from './helpers.ts';

const DEFAULT_FILE = 'cloud/resources/default.json';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(async () => {
  await t.stop();
});

async function apply(file: string, dryRun = false): Promise<{ report: ApplyReport; lines: string[] }> {
  const lines: string[] = [];
  const report = await applyResources(file, t.cloud.endpoint, TEST_KEY, { dryRun, print: (line) => lines.push(line) });
  return { report, lines };
}

const actions = (report: ApplyReport) => Object.fromEntries(report.entries.map((e) => [`${e.kind}/${e.name}`, e.action]));

describe('hedgerow cloud apply', () => {
  it('creates the ready-made resources, then finds them all unchanged', async () => {
    const dry = await apply(DEFAULT_FILE, true);
    expect(dry.report.applied).toBe(false);
    expect(dry.lines.at(-1)).toBe('14 to create, 0 to update, 0 unchanged.');

    const first = await apply(DEFAULT_FILE);
    expect(Object.values(actions(first.report))).toEqual(Array(14).fill('create'));
    expect(first.lines).toContain('  + pipeline weather_pipeline (create)');
    expect(first.lines.at(-1)).toBe('Applied.');
    expect((await t.client.send(new DescribePipelineCommand({ pipelineName: 'weather_pipeline' }))).pipeline?.activities).toHaveLength(4);
    const arn = (await t.client.send(new DescribeDatasetCommand({ datasetName: 'weather_daily' }))).dataset!.arn!;
    expect((await t.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ key: 'public', value: 'true' }]);
    const rule = (await signedFetch({ endpoint: t.cloud.endpoint, credentials: TEST_KEY, region: 'eu-west-1', service: 'iot' }, 'GET', '/rules/weather_readings')) as { rule: { sql: string } };
    expect(rule.rule.sql).toBe("SELECT * FROM 'dt/weather/+/reading'");

    const second = await apply(DEFAULT_FILE);
    expect(Object.values(actions(second.report))).toEqual(Array(14).fill('unchanged'));
    expect(second.lines).toContain('0 to create, 0 to update, 14 unchanged.');
  });

  it('updates only what the file changes, in YAML too, and is idempotent again', async () => {
    const file = readResourceFile(DEFAULT_FILE);
    file.channels[0]!.retentionPeriod = { numberOfDays: 7 };
    file.channels[1]!.tags = [{ key: 'room', value: 'museum hall' }];
    const filter = file.pipelines[0]!.pipelineActivities[1]!.filter!;
    filter.filter = 'ts > 1000';
    file.datasets[0]!.triggers = [{ schedule: { expression: 'rate(30 minutes)' } }];
    file.rules[1]!.topicRulePayload.description = 'Taps, renamed';
    file.things.push({ thingName: 'north_station', thingTypeName: 'weather_station', attributes: { school: 'North Primary' } });
    const path = join(t.dir, 'changed.yaml');
    writeFileSync(path, toYaml(file));

    const changed = await apply(path);
    expect(actions(changed.report)).toMatchObject({
      'thing/north_station': 'create',
      'channel/weather_channel': 'update',
      'channel/taps_channel': 'update',
      'datastore/weather_datastore': 'unchanged',
      'pipeline/weather_pipeline': 'update',
      'pipeline/taps_pipeline': 'unchanged',
      'dataset/weather_daily': 'update',
      'dataset/taps_weekly': 'unchanged',
      'rule/museum_taps': 'update',
      'rule/weather_readings': 'unchanged',
    });
    expect(changed.lines).toContain('  ~ channel weather_channel (update: retentionPeriod)');
    expect(changed.lines).toContain('  ~ channel taps_channel (update: tags)');
    expect(changed.lines).toContain('  ~ dataset weather_daily (update: triggers)');

    expect((await t.client.send(new DescribeChannelCommand({ channelName: 'weather_channel' }))).channel?.retentionPeriod).toEqual({ numberOfDays: 7 });
    const activities = (await t.client.send(new DescribePipelineCommand({ pipelineName: 'weather_pipeline' }))).pipeline?.activities;
    expect(activities?.[1]?.filter?.filter).toBe('ts > 1000');
    expect((await t.client.send(new DescribeDatasetCommand({ datasetName: 'weather_daily' }))).dataset?.triggers).toEqual([{ schedule: { expression: 'rate(30 minutes)' } }]);

    const again = await apply(path);
    expect(new Set(Object.values(actions(again.report)))).toEqual(new Set(['unchanged']));
  });

  it('refuses a bad file by path and reason before calling the API', async () => {
    const path = join(t.dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ channels: [{ channelName: 'a' }, { channelName: 'a' }], datastores: [{ datastoreName: 'x', colour: 'red' }] }));
    await expect(apply(path)).rejects.toThrow(ApplyError);
    await expect(apply(path)).rejects.toThrow(/datastores\.0: Unrecognized key: "colour"/);
    await expect(apply(path)).rejects.toThrow(/channels\.1: a is listed twice/);
    writeFileSync(path, '{ not json');
    await expect(apply(path)).rejects.toThrow(/cannot read the resource file/);
  });

  it('names the step the server refused and keeps what came before', async () => {
    const path = join(t.dir, 'dangling.json');
    const pipelineActivities = [
      { channel: { name: 'in', channelName: 'no_such_channel', next: 'out' } },
      { datastore: { name: 'out', datastoreName: 'weather_datastore' } },
    ];
    writeFileSync(path, JSON.stringify({ channels: [{ channelName: 'kept_channel' }], pipelines: [{ pipelineName: 'dangling', pipelineActivities }] }));
    await expect(apply(path)).rejects.toThrow(/^create pipeline dangling failed: \w+Exception: .*no_such_channel/);
    expect((await t.client.send(new DescribeChannelCommand({ channelName: 'kept_channel' }))).channel?.name).toBe('kept_channel');
  });
});

describe('covers', () => {
  it('compares only what the file sets, deeply, with arrays in order', () => {
    expect(covers({ numberOfDays: 7, unlimited: false }, { numberOfDays: 7 })).toBe(true);
    expect(covers({ numberOfDays: 7 }, { numberOfDays: 8 })).toBe(false);
    expect(covers([{ a: 1, b: 2 }], [{ a: 1 }])).toBe(true);
    expect(covers([{ a: 1 }, { a: 2 }], [{ a: 2 }, { a: 1 }])).toBe(false);
    expect(covers(undefined, { a: 1 })).toBe(false);
    expect(covers('x', undefined)).toBe(true);
  });
});
