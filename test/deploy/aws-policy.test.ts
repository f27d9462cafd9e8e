import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressedTopic, topics } from '../../hardware/core/contract.ts';
import { ACCOUNT, FakeIot, awsEnv, deployAws } from './aws-fake-iot.ts';
import { IotCoreAuthorizer, evaluate } from './aws-policy-evaluator.ts';
import type { Connection, Policy } from './aws-policy-evaluator.ts';

/**
 * The station policy, as deploy.sh aws sends it to IoT (taken from its create-policy request to the
 * stand-in control plane), evaluated with IoT Core's documented semantics (aws-policy-evaluator.ts names
 * the pages they come from).
 */

const PREFIX = `arn:aws:iot:eu-west-1:${ACCOUNT}`;
const registry = ['A', 'B'];
/** Station A's certificate, connecting with client id `clientId`. */
const asA = (clientId: string): Connection => ({ clientId, certificateThings: ['A'], registry });
const A = asA('A');

let fake: FakeIot;
let policy: Policy;
let iot: IotCoreAuthorizer;

beforeAll(async () => {
  fake = await new FakeIot().start();
  const home = mkdtempSync(join(tmpdir(), 'hedgerow-aws-policy-'));
  const run = await deployAws(['--thing', 'A', '--region', 'eu-west-1', '--out', join(home, 'A'), '--endpoint-url', fake.url], awsEnv(home));
  expect(run.code, run.stderr).toBe(0);
  const sent = fake.requests.find((r) => r.operation === 'CreatePolicy')!;
  policy = JSON.parse(sent.body.policyDocument as string) as Policy;
  iot = new IotCoreAuthorizer(policy, PREFIX);
}, 400_000);
afterAll(() => fake.stop());

describe('the station policy, evaluated', () => {
  it('lets a station connect only as its own thing, with its certificate attached, and with its retained will', () => {
    const will = { topic: topics.status('weather', 'A'), retain: true };
    expect(iot.connect(A, will)).toBe(true);
    expect(iot.connect(asA('B'))).toBe(false);
    expect(iot.connect(asA('hedgerow-A'))).toBe(false); // the uplink's default client id: deploy.sh sets clientId
    expect(iot.connect(asA('unregistered'))).toBe(false);
    // A certificate not attached to thing A may not connect as A.
    expect(iot.connect({ clientId: 'A', certificateThings: ['B'], registry })).toBe(false);
    expect(iot.connect(A, { topic: topics.status('weather', 'B'), retain: true })).toBe(false);
  });

  it('lets it publish only under its own id, each type the contract has', () => {
    expect(iot.publish(A, topics.weatherReading('A'))).toBe(true);
    expect(iot.publish(A, topics.museumTap('A'))).toBe(true);
    expect(iot.publish(A, topics.status('weather', 'A'))).toBe(true);
    expect(iot.publish(A, topics.weatherReading('B'))).toBe(false);
    expect(iot.publish(A, topics.status('weather', 'B'))).toBe(false);
    expect(iot.publish(A, 'dt/weather/A')).toBe(false);
    expect(iot.publish(A, 'cmd/weather/A/virtual-weather')).toBe(false);
    expect(iot.publish(A, '$aws/things/A/shadow/update')).toBe(false);
    // `*` in a policy matches across `/`: without the explicit Deny of deeper topics, A could write a level under B.
    expect(iot.publish(A, 'dt/weather/B/A/reading')).toBe(false);
    expect(evaluate(policy, 'iot:Publish', `${PREFIX}:topic/dt/weather/B/A/reading`, A)).toBe('explicit-deny');
    expect(iot.publish(A, 'dt/weather/A/reading/extra')).toBe(false);
  });

  it('lets it publish compressed envelopes (dtz/...) only under its own id, never retained or deeper', () => {
    expect(iot.publish(A, compressedTopic(topics.weatherReading('A'))!)).toBe(true);
    expect(iot.publish(A, compressedTopic(topics.museumTap('A'))!)).toBe(true);
    expect(iot.publish(A, compressedTopic(topics.weatherReading('B'))!)).toBe(false);
    expect(iot.publish(A, compressedTopic(topics.weatherReading('A'))!, true)).toBe(false);
    expect(iot.publish(A, 'dtz/weather/B/A/reading')).toBe(false);
    expect(evaluate(policy, 'iot:Publish', `${PREFIX}:topic/dtz/weather/B/A/reading`, A)).toBe('explicit-deny');
  });

  it('lets it retain only its own status', () => {
    expect(iot.publish(A, topics.status('weather', 'A'), true)).toBe(true);
    expect(iot.publish(A, topics.status('museum', 'A'), true)).toBe(true);
    expect(iot.publish(A, topics.weatherReading('A'), true)).toBe(false);
    expect(iot.publish(A, topics.weatherLatest('A'), true)).toBe(false);
    expect(iot.publish(A, topics.status('weather', 'B'), true)).toBe(false);
  });

  it('grants no subscribe and no receive: a station on IoT Core subscribes to nothing', () => {
    for (const filter of ['dt/weather/A/#', 'dt/#', 'cmd/weather/A/virtual-weather', '#', '$aws/things/A/shadow/update/delta']) {
      expect(iot.subscribe(A, filter)).toBe(false);
    }
    expect(iot.receive(A, topics.weatherReading('A'))).toBe(false);
    expect(iot.receive(A, 'cmd/weather/A/virtual-weather')).toBe(false);
  });

  it('grants nothing beyond Connect, Publish and RetainPublish', () => {
    const actions = new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action));
    expect([...actions].sort()).toEqual(['iot:Connect', 'iot:Publish', 'iot:RetainPublish']);
    for (const action of ['iot:GetThingShadow', 'iot:UpdateThingShadow', 'iot:DeleteConnection', 'iot:GetRetainedMessage']) {
      expect(evaluate(policy, action, `${PREFIX}:thing/A`, A)).toBe('implicit-deny');
    }
  });
});

describe('the evaluator follows the documented semantics', () => {
  it('reproduces the Connect example of the Developer Guide: the explicit Deny of client1 wins over the thing variable Allow', () => {
    const example: Policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Deny', Action: ['iot:Connect'], Resource: [`${PREFIX}:client/client1`] },
        {
          Effect: 'Allow',
          Action: ['iot:Connect'],
          Resource: [`${PREFIX}:client/\${iot:Connection.Thing.ThingName}`],
          Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
        },
      ],
    };
    const thing = (clientId: string): Connection => ({ clientId, certificateThings: [clientId], registry: [clientId] });
    expect(evaluate(example, 'iot:Connect', `${PREFIX}:client/client1`, thing('client1'))).toBe('explicit-deny');
    expect(evaluate(example, 'iot:Connect', `${PREFIX}:client/client2`, thing('client2'))).toBe('allow');
    expect(evaluate(example, 'iot:Connect', `${PREFIX}:client/client3`, { clientId: 'client3', certificateThings: [], registry: ['client3'] })).toBe('implicit-deny');
  });

  it('treats * and ? as wildcards across /, + and # as plain characters, $(*) as a literal *', () => {
    const policyOf = (resource: string): Policy => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: resource }] });
    const on = (resource: string, topic: string) => evaluate(policyOf(`${PREFIX}:topic/${resource}`), 'iot:Publish', `${PREFIX}:topic/${topic}`, A);
    expect(on('a/*', 'a/b/c')).toBe('allow');
    expect(on('a/?/c', 'a/b/c')).toBe('allow');
    expect(on('a/?', 'a/bc')).toBe('implicit-deny');
    expect(on('a/+/c', 'a/b/c')).toBe('implicit-deny');
    expect(on('a/#', 'a/#')).toBe('allow');
    expect(on('a/$(*)', 'a/*')).toBe('allow');
    expect(on('a/$(*)', 'a/b')).toBe('implicit-deny');
  });
});

describe('deploy/aws/station-policy.json', () => {
  it('is valid JSON with the documented policy Version 2012-10-17 and names no station', () => {
    const template = JSON.parse(readFileSync('deploy/aws/station-policy.json', 'utf8')) as Policy;
    expect(template.Version).toBe('2012-10-17');
    expect(template.Statement.length).toBeGreaterThan(0);
    for (const statement of template.Statement) {
      for (const resource of [statement.Resource].flat()) expect(resource).toMatch(/^arn:@PARTITION@:iot:@REGION@:@ACCOUNT@:(client|topic)\//);
    }
  });
});
