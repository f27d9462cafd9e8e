import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compressedTopic, topics } from '../../hardware/core/contract.ts';
import { IotCoreAuthorizer, evaluate } from './aws-policy-evaluator.ts';
import type { Connection, Policy } from './aws-policy-evaluator.ts';

/**
 * deploy/aws/engine-policy.json, the IoT Core policy of the cloud engine's certificate, evaluated with
 * IoT Core's documented semantics (aws-policy-evaluator.ts) as aws-policy.test.ts does the station's.
 * Shared subscriptions: IoT Core checks iot:Subscribe on arn:…:topicfilter/$share/<group>/<filter>, and the
 * example policy of aws-iot-device-sdk-python-v2's mqtt5_shared_subscription sample (samples/
 * mqtt5_shared_subscription.md) allows iot:Receive on both arn:…:topic/<topic> and
 * arn:…:topic/$share/<group>/<topic>; the policy allows both forms, for the group `hedgerow` only.
 */

const ACCOUNT = '123456789012';
const PREFIX = `arn:aws:iot:eu-west-1:${ACCOUNT}`;
const template = readFileSync('deploy/aws/engine-policy.json', 'utf8');
const policy = JSON.parse(template.replaceAll('@PARTITION@', 'aws').replaceAll('@REGION@', 'eu-west-1').replaceAll('@ACCOUNT@', ACCOUNT)) as Policy;
const iot = new IotCoreAuthorizer(policy, PREFIX);
/** The engine is not a registered thing: its certificate is attached to none. */
const engine = (clientId: string): Connection => ({ clientId, certificateThings: [], registry: ['A'] });
const worker = engine('hedgerow-cloud-2');
const RULE_FILTERS = ['dt/weather/+/reading', 'dt/museum/+/tap', 'dt/+/+/status'];
const COMPRESSED_FILTERS = ['dt/weather/+/reading', 'dt/museum/+/tap'].map((f) => compressedTopic(f)!);

describe('the engine policy, evaluated', () => {
  it('lets the engine connect as its own client ids only (hedgerow-cloud, hedgerow-cloud-<worker>)', () => {
    expect(iot.connect(engine('hedgerow-cloud'))).toBe(true);
    expect(iot.connect(worker)).toBe(true);
    expect(iot.connect(engine('A'))).toBe(false);
    expect(iot.connect(engine('hedgerow-A'))).toBe(false);
  });

  it('lets it subscribe to the rule topics, their compressed twins and their $share/hedgerow/ group, and nothing else', () => {
    for (const filter of [...RULE_FILTERS, ...COMPRESSED_FILTERS]) {
      expect(iot.subscribe(worker, filter), filter).toBe(true);
      expect(iot.subscribe(worker, `$share/hedgerow/${filter}`), filter).toBe(true);
    }
    for (const filter of ['#', 'dt/#', 'dt/weather/#', 'cmd/weather/A/virtual-weather', '$share/other/dt/weather/+/reading', '$share/hedgerow/#', '$aws/things/A/shadow/update']) {
      expect(iot.subscribe(worker, filter), filter).toBe(false);
    }
  });

  it('lets it receive only what the rules read', () => {
    for (const topic of [topics.weatherReading('A'), topics.museumTap('A'), topics.status('weather', 'A'), compressedTopic(topics.weatherReading('A'))!]) {
      expect(iot.receive(worker, topic), topic).toBe(true);
      expect(iot.receive(worker, `$share/hedgerow/${topic}`), topic).toBe(true);
    }
    expect(iot.receive(worker, 'cmd/weather/A/virtual-weather')).toBe(false);
    expect(iot.receive(worker, topics.weatherLatest('A'))).toBe(false);
    expect(iot.receive(worker, '$aws/things/A/shadow/update')).toBe(false);
  });

  it('grants no publish, no retain and nothing beyond Connect, Subscribe and Receive', () => {
    expect(iot.publish(worker, topics.weatherReading('A'))).toBe(false);
    expect(iot.publish(worker, topics.status('weather', 'A'), true)).toBe(false);
    const actions = new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action));
    expect([...actions].sort()).toEqual(['iot:Connect', 'iot:Receive', 'iot:Subscribe']);
    expect(evaluate(policy, 'iot:UpdateThingShadow', `${PREFIX}:thing/A`, worker)).toBe('implicit-deny');
    for (const statement of JSON.parse(template).Statement as Policy['Statement']) {
      for (const resource of [statement.Resource].flat()) expect(resource).toMatch(/^arn:@PARTITION@:iot:@REGION@:@ACCOUNT@:(client|topic|topicfilter)\//);
    }
  });
});
