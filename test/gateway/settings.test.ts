import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewaySettings, effectiveLimits } from '../../gateway/settings.ts';
import { parseSettings, ConfigError } from '../../hardware/core/config-file.ts';
import { makeTestPki } from './helpers/certs.ts';

const pki = makeTestPki();
afterAll(() => pki.remove());

function problems(raw: unknown): string[] {
  try {
    parseSettings(gatewaySettings, raw, 'hedgerow.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('gateway settings', () => {
  it('has a default for everything', () => {
    const settings = gatewaySettings.parse({});
    expect(settings.uplink).toMatchObject({ url: 'mqtt://127.0.0.1:1883', client: 'mqtt', maxInFlight: 100, maxRecordsPerEnvelope: 100, maxEnvelopeBytes: 128_000 });
    expect(settings.outbox).toMatchObject({ path: 'outbox.db', synchronous: 'NORMAL', capPolicy: 'drop-oldest', capBytes: 512 * 1024 ** 2 });
    expect(settings.broker).toMatchObject({ host: '127.0.0.1', port: 1883 });
  });

  it('reads sizes and durations with units', () => {
    const settings = gatewaySettings.parse({ outbox: { capBytes: '64MiB' }, uplink: { keepalive: '2m' } });
    expect(settings.outbox.capBytes).toBe(64 * 1024 ** 2);
    expect(settings.uplink.keepalive).toBe(120_000);
  });

  it('refuses an outbox cap so small that nearly every record would be dropped, naming the key', () => {
    expect(problems({ outbox: { capBytes: 1 } })).toEqual([expect.stringMatching(/^outbox\.capBytes: a cap below 1MiB .*use 1MiB or more, or 0 for no cap/)]);
    expect(problems({ outbox: { capBytes: '64KiB' } })[0]).toMatch(/^outbox\.capBytes: a cap below 1MiB/);
    expect(gatewaySettings.parse({ outbox: { capBytes: 0 } }).outbox.capBytes).toBe(0);
    expect(gatewaySettings.parse({ outbox: { capBytes: '1MiB' } }).outbox.capBytes).toBe(1024 ** 2);
  });

  it('names the key and the value for a bad URL', () => {
    expect(problems({ uplink: { url: 'not a url' } })).toEqual([expect.stringMatching(/^uplink\.url: not a URL.*\(got "not a url"\)$/)]);
    expect(problems({ uplink: { url: 'http://broker:80' } })[0]).toMatch(/^uplink\.url: scheme http: is not supported/);
  });

  it('names the key and the file for a missing certificate', () => {
    const missing = join(pki.dir, 'nope.crt');
    const [problem] = problems({ uplink: { tls: { cert: missing, key: pki.clientKey } } });
    expect(problem).toContain('uplink.tls.cert');
    expect(problem).toContain(`file ${missing} does not exist`);
  });

  it('names the key and the file for an unreadable or malformed key', () => {
    const folder = join(pki.dir, 'a-folder.key');
    mkdirSync(folder);
    expect(problems({ uplink: { tls: { cert: pki.clientCert, key: folder } } })[0]).toMatch(new RegExp(`^uplink\\.tls\\.key: file ${folder} is not a file`));
    const garbage = join(pki.dir, 'garbage.key');
    writeFileSync(garbage, 'not a key');
    expect(problems({ uplink: { tls: { cert: pki.clientCert, key: garbage } } })[0]).toMatch(new RegExp(`^uplink\\.tls\\.key: file ${garbage} is not a PEM private key`));
    // A certificate where the key belongs is caught too.
    expect(problems({ uplink: { tls: { cert: pki.clientCert, key: pki.clientCert } } })[0]).toMatch(/uplink\.tls\.key: .* is not a PEM private key/);
  });

  it('needs both halves of mutual TLS, and mTLS for the aws-iot client', () => {
    expect(problems({ uplink: { tls: { cert: pki.clientCert } } })[0]).toMatch(/^uplink\.tls\.key: mutual TLS needs both tls\.cert and tls\.key/);
    expect(problems({ uplink: { client: 'aws-iot', url: 'mqtts://x.example:8883' } })[0]).toMatch(/^uplink\.client: the aws-iot client needs/);
  });

  it('keeps IoT Core limits under the iot-core profile', () => {
    const settings = gatewaySettings.parse({ uplink: { profile: 'iot-core', maxInFlight: 500, maxPublishesPerSecond: 1000 } });
    expect(effectiveLimits(settings.uplink)).toEqual({ inFlight: 100, publishesPerSecond: 100 });
    expect(effectiveLimits(gatewaySettings.parse({ uplink: { profile: 'iot-core' } }).uplink).publishesPerSecond).toBe(100);
    expect(problems({ uplink: { profile: 'iot-core', keepalive: '10s' } })[0]).toMatch(/uplink\.keepalive: AWS IoT Core accepts/);
    expect(problems({ uplink: { maxEnvelopeBytes: 200_000 } })[0]).toMatch(/^uplink\.maxEnvelopeBytes/);
  });

  it('refuses unknown keys', () => {
    expect(problems({ uplink: { urll: 'mqtt://x' } })[0]).toMatch(/urll/);
  });
});
