import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseSettings } from '../../hardware/core/config-file.ts';
import { hedgerowSettings } from '../../bin/hedgerow-settings.ts';
import { ACCOUNT, FakeIot, awsEnv, deployAws } from './aws-fake-iot.ts';

/**
 * deploy.sh aws with the real aws CLI (botocore checks every parameter against its service model before
 * it sends) against a stand-in IoT control plane on 127.0.0.1 (test/deploy/aws-fake-iot.ts). Each aws
 * call starts a Python interpreter (about 2 s here), so a run of the script takes 20 s or more.
 */

const TIMEOUT = { timeout: 400_000 };
let fake: FakeIot | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function workdir(): string {
  return mkdtempSync(join(tmpdir(), 'hedgerow-aws-'));
}

async function provision(home: string, extra: string[] = []) {
  const out = join(home, 'thing');
  const run = await deployAws(['--thing', 'north-field', '--region', 'eu-west-1', '--out', out, '--install-dir', out, '--endpoint-url', fake!.url, ...extra], awsEnv(home));
  return { run, out };
}

describe('deploy.sh aws against a stand-in IoT control plane', () => {
  it('makes each call with its operation and parameters, and writes a folder the station accepts', TIMEOUT, async () => {
    fake = await new FakeIot().start();
    const home = workdir();
    const { run, out } = await provision(home);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    expect(fake.operations()).toEqual([
      'DescribeThing',
      'CreateThing',
      'CreateKeysAndCertificate',
      'GetPolicy',
      'CreatePolicy',
      'AttachPolicy',
      'AttachThingPrincipal',
      'DescribeEndpoint',
    ]);
    const [describe, create, keys, , createPolicy, attachPolicy, attachPrincipal, endpoint] = fake.requests;
    expect(describe).toMatchObject({ method: 'GET', path: '/things/north-field' });
    expect(create).toMatchObject({ method: 'POST', path: '/things/north-field' });
    expect(keys).toMatchObject({ method: 'POST', path: '/keys-and-certificate', query: { setAsActive: 'true' } });
    const certArn = `arn:aws:iot:eu-west-1:${ACCOUNT}:cert/${[...fake.state.certificates.keys()][0]}`;
    expect(createPolicy).toMatchObject({ method: 'POST', path: '/policies/hedgerow-station' });
    expect(attachPolicy).toMatchObject({ method: 'PUT', path: '/target-policies/hedgerow-station', body: { target: certArn } });
    expect(attachPrincipal).toMatchObject({ method: 'PUT', path: '/things/north-field/principals', principal: certArn });
    expect(endpoint).toMatchObject({ method: 'GET', path: '/endpoint', query: { endpointType: 'iot:Data-ATS' } });
    // Signed (SigV4) for IoT's control plane in the region asked for.
    for (const request of fake.requests) expect(request.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDSTANDIN\/\d{8}\/eu-west-1\/iot\/aws4_request/);
    expect(fake.answerProblems).toEqual([]);

    // The policy sent names this account and region and never the station: one policy serves every thing.
    const policy = JSON.parse(createPolicy!.body.policyDocument as string) as { Statement: { Resource: string }[] };
    for (const statement of policy.Statement) {
      for (const resource of [statement.Resource].flat()) expect(resource).toMatch(new RegExp(`^arn:aws:iot:eu-west-1:${ACCOUNT}:`));
    }
    expect(createPolicy!.body.policyDocument).not.toContain('north-field');

    // The folder: key 0600, the certificate and key the service answered, Amazon Root CA 1, the uplink section.
    const key = join(out, 'north-field.private.key');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'north-field.cert.pem'), 'utf8').trim()).toBe([...fake.state.certificates.values()][0]!.pem.trim());
    expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(join(out, 'AmazonRootCA1.pem'), 'utf8')).toBe(readFileSync('/usr/share/ca-certificates/mozilla/Amazon_Root_CA_1.crt', 'utf8'));
    expect(run.stdout).not.toContain('PRIVATE KEY');

    const fragment = parse(readFileSync(join(out, 'uplink.yaml'), 'utf8')) as Record<string, unknown>;
    const settings = parseSettings(hedgerowSettings, { ...fragment, station: { id: 'north-field' } }, 'uplink.yaml');
    expect(settings.uplink).toMatchObject({
      url: `mqtts://${fake.endpointAddress}:8883`,
      clientId: 'north-field',
      profile: 'iot-core',
      tls: { ca: join(out, 'AmazonRootCA1.pem'), cert: join(out, 'north-field.cert.pem'), key },
    });
    const record = JSON.parse(readFileSync(join(out, 'aws-thing.json'), 'utf8')) as Record<string, string>;
    expect(record).toMatchObject({ thingName: 'north-field', certificateArn: certArn, policyName: 'hedgerow-station', region: 'eu-west-1', endpoint: fake.endpointAddress });

    // The hand-off: deploy.sh sdcard takes the folder as written here, onto a Trixie card.
    const boot = join(home, 'bootfs');
    mkdirSync(boot);
    writeFileSync(join(boot, 'config.txt'), '[all]\n');
    writeFileSync(join(boot, 'cmdline.txt'), 'console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 rootwait\n');
    writeFileSync(join(boot, 'user-data'), '#cloud-config\nhostname: raspberrypi\n');
    writeFileSync(join(boot, 'meta-data'), 'instance-id: rpi\n');
    const card = spawnSync('bash', ['deploy.sh', 'sdcard', boot, '--station-id', 'north-field', '--aws-thing-dir', out], { encoding: 'utf8', timeout: 120_000 });
    expect(card.stderr).toBe('');
    expect(card.status).toBe(0);
    expect(readFileSync(join(boot, 'hedgerow/aws/key.pem'))).toEqual(readFileSync(key));
    expect(readFileSync(join(boot, 'hedgerow/aws/cert.pem'))).toEqual(readFileSync(join(out, 'north-field.cert.pem')));
    expect(readFileSync(join(boot, 'hedgerow/aws/ca.pem'))).toEqual(readFileSync(join(out, 'AmazonRootCA1.pem')));
    const station = parse(readFileSync(join(boot, 'hedgerow/hedgerow.yaml'), 'utf8')) as { uplink: Record<string, unknown> };
    expect(station.uplink).toMatchObject({ url: `mqtts://${fake.endpointAddress}:8883`, clientId: 'north-field', profile: 'iot-core', tls: { cert: '/etc/hedgerow/aws/cert.pem', key: '/etc/hedgerow/aws/key.pem', ca: '/etc/hedgerow/aws/ca.pem' } });
  });

  it('a second run reuses the thing, the certificate in its folder and the policy, and says so', TIMEOUT, async () => {
    fake = await new FakeIot().start();
    const home = workdir();
    expect((await provision(home)).run.code).toBe(0);
    const firstKey = readFileSync(join(home, 'thing/north-field.private.key'), 'utf8');
    fake.requests.length = 0;

    const { run } = await provision(home);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('thing north-field exists: reusing it');
    expect(run.stdout).toMatch(/certificate c0+1 in .*: reusing it/);
    expect(run.stdout).toContain('policy hedgerow-station exists with the same document: reusing it');
    expect(fake.operations()).toEqual(['DescribeThing', 'DescribeCertificate', 'GetPolicy', 'AttachPolicy', 'AttachThingPrincipal', 'DescribeEndpoint']);
    expect(fake.state.certificates.size).toBe(1);
    expect(readFileSync(join(home, 'thing/north-field.private.key'), 'utf8')).toBe(firstKey);
    expect(fake.answerProblems).toEqual([]);
  });

  it('a run that fails after the certificate was made keeps it, and the next run uses it instead of making another', TIMEOUT, async () => {
    fake = await new FakeIot().start();
    fake.failOnce.add('GetPolicy');
    const home = workdir();
    const failed = await provision(home);
    expect(failed.run.code).toBe(1);
    expect(failed.run.stderr).toMatch(/'aws iot get-policy' failed: .*InvalidRequestException/);
    expect(fake.state.certificates.size).toBe(1);

    const again = await provision(home);
    expect(again.run.code).toBe(0);
    expect(again.run.stdout).toMatch(/certificate c0+1 in .*: reusing it/);
    expect(fake.state.certificates.size).toBe(1);
    expect(fake.state.thingPrincipals).toEqual(new Set([`north-field -> arn:aws:iot:eu-west-1:${ACCOUNT}:cert/${[...fake.state.certificates.keys()][0]}`]));
  });

  it('refuses to reuse a folder made for another region', TIMEOUT, async () => {
    fake = await new FakeIot().start();
    const home = workdir();
    expect((await provision(home)).run.code).toBe(0);
    fake.requests.length = 0;
    const out = join(home, 'thing');
    const other = await deployAws(['--thing', 'north-field', '--region', 'us-east-1', '--out', out, '--endpoint-url', fake.url], awsEnv(home));
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/holds a certificate of eu-west-1.*--region eu-west-1.*another --out/);
    expect(fake.operations()).not.toContain('CreateKeysAndCertificate');
  });

  it('refuses a policy of the same name with another document, and replaces it only with --update-policy', TIMEOUT, async () => {
    fake = await new FakeIot().start();
    const someoneElses = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] });
    fake.state.policies.set('hedgerow-station', { document: someoneElses, version: 1 });
    const home = workdir();

    const refused = await provision(home);
    expect(refused.run.code).toBe(1);
    expect(refused.run.stderr).toMatch(/policy hedgerow-station exists with another document.*--update-policy.*--policy-name/);
    expect(fake.operations()).not.toContain('CreatePolicyVersion');
    expect(fake.state.policies.get('hedgerow-station')!.document).toBe(someoneElses);

    const updated = await provision(home, ['--update-policy']);
    expect(updated.run.code).toBe(0);
    const version = fake.requests.find((r) => r.operation === 'CreatePolicyVersion')!;
    expect(version).toMatchObject({ method: 'POST', path: '/policies/hedgerow-station/version', query: { setAsDefault: 'true' } });
    expect(fake.state.policies.get('hedgerow-station')!.document).toContain('${iot:Connection.Thing.ThingName}');
    expect(fake.answerProblems).toEqual([]);
  });

  it('--dry-run prints the aws commands and the policy and calls nothing', TIMEOUT, async () => {
    fake = await new FakeIot().start();
    const home = workdir();
    const { run, out } = await provision(home, ['--dry-run']);
    expect(run.code).toBe(0);
    expect(fake.requests).toEqual([]);
    expect(() => statSync(out)).toThrow();
    expect(run.stdout).toContain(`+ aws --endpoint-url ${fake.url} --region eu-west-1 --output json iot create-thing --thing-name north-field`);
    expect(run.stdout).toMatch(/\+ aws .* iot describe-endpoint --endpoint-type iot:Data-ATS/);
    const create = /^\+ aws .* create-policy --policy-name hedgerow-station --policy-document '(.*)'$/m.exec(run.stdout);
    expect(JSON.parse(create![1]!)).toMatchObject({ Version: '2012-10-17' });
  });

  it('says what to do without a region or without credentials', TIMEOUT, async () => {
    fake = await new FakeIot().start();
    const home = workdir();
    const noRegion = await deployAws(['--thing', 'north-field', '--endpoint-url', fake.url], awsEnv(home));
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toMatch(/no AWS region: pass --region eu-west-1 .*aws configure set region/);

    const noCredentials = await deployAws(['--thing', 'north-field', '--region', 'eu-west-1', '--endpoint-url', fake.url, '--out', join(home, 'x')], awsEnv(home, false));
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.stderr).toMatch(/no valid AWS credentials .*run aws configure/);
    expect(noCredentials.stderr).not.toMatch(/Traceback/);
    expect(fake.requests).toEqual([]);

    const badThing = await deployAws(['--thing', 'dt/+', '--region', 'eu-west-1'], awsEnv(home));
    expect(badThing.code).toBe(2);
    expect(badThing.stderr).toMatch(/--thing must be 1-64 letters/);
  });
});
