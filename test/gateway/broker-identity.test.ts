// Each station logs in as itself and may publish only under dt/<app>/<its id>/…, on the embedded aedes
// broker (authorizePublish) and on mosquitto (password file + ACL from gateway/broker-mosquitto.ts).
// The engine's own check (an envelope whose deviceId is not its topic's) is
// test/cloud/ingest/mqtt-impersonation.test.ts.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerExtension } from '../../gateway/broker.ts';
import { hashPassword, stationMayPublish, verifyPassword } from '../../gateway/broker-users.ts';
import { mosquittoAcl, writeMosquittoFiles } from '../../gateway/broker-mosquitto.ts';
import { brokerSettings } from '../../gateway/settings.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { recordingLog, tempDir } from './helpers/gateway-harness.ts';

const alpha = { username: 'alpha', password: 'alpha-secret-1' };
const beta = { username: 'beta', password: 'beta-secret-2' };
const engine = { username: 'engine', password: 'engine-secret-3' };

interface Login {
  username?: string;
  password?: string;
}

/** Connects, publishes once at QoS 1, and says what the broker did: acked, refused (a PUBACK error) or dropped the connection. */
async function publishOnce(url: string, login: Login, topic: string, body: string, protocolVersion: 4 | 5, clientId = `pub-${login.username ?? 'anon'}-${Math.random()}`): Promise<'acked' | 'refused' | 'closed' | 'bad login'> {
  const client = mqtt.connect(url, { ...login, protocolVersion, reconnectPeriod: 0, connectTimeout: 10_000, clientId });
  try {
    return await new Promise((resolve) => {
      client.once('error', () => resolve('bad login'));
      client.once('close', () => resolve('closed'));
      client.once('connect', () => client.publish(topic, body, { qos: 1 }, (error) => resolve(error ? 'refused' : 'acked')));
    });
  } finally {
    client.end(true);
  }
}

/** The engine's view: everything it receives under dt/#. */
async function subscribe(url: string, login: Login, protocolVersion: 4 | 5): Promise<{ seen: string[]; stop: () => Promise<void> }> {
  const client = mqtt.connect(url, { ...login, protocolVersion, reconnectPeriod: 100, clientId: `engine-${Math.random()}` });
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe('dt/#', { qos: 1 }, (error) => (error ? reject(error) : resolve())));
    client.once('error', reject);
  });
  return { seen, stop: () => client.endAsync(true) };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** The same checks against either broker. */
function impersonationChecks(broker: () => { url: string; protocolVersion: 4 | 5 }, refusal: 'closed' | 'refused'): void {
  it('delivers a station publishing under its own id, and never one publishing under another', async () => {
    const { url, protocolVersion } = broker();
    const subscriber = await subscribe(url, engine, protocolVersion);
    try {
      const forged = await publishOnce(url, alpha, 'dt/weather/beta/reading', 'forged-by-alpha', protocolVersion);
      expect(forged).toBe(refusal);
      expect(await publishOnce(url, alpha, 'dt/weather/alpha/reading', 'alpha-own', protocolVersion)).toBe('acked');
      expect(await publishOnce(url, beta, 'dt/weather/beta/reading', 'beta-own', protocolVersion)).toBe('acked');
      await until(() => subscriber.seen.length >= 2, 'the two allowed messages');
      expect(subscriber.seen).toContain('dt/weather/alpha/reading alpha-own');
      expect(subscriber.seen).toContain('dt/weather/beta/reading beta-own');
      expect(subscriber.seen.join('\n')).not.toMatch(/forged/);
    } finally {
      await subscriber.stop();
    }
  });

  it("publishes a station's will under its own id only", async () => {
    const { url, protocolVersion } = broker();
    const subscriber = await subscribe(url, engine, protocolVersion);
    try {
      for (const [topic, body] of [['dt/weather/beta/status', 'forged-will'], ['dt/weather/alpha/status', 'alpha-will']]) {
        const client = mqtt.connect(url, { ...alpha, protocolVersion, reconnectPeriod: 0, clientId: `will-${body}`, will: { topic: topic!, payload: Buffer.from(body!), qos: 1, retain: false } });
        // Connected, or refused at once (mosquitto may check the will at CONNECT): either way, then gone without a DISCONNECT.
        await new Promise<void>((resolve) => {
          client.once('connect', () => resolve());
          client.once('error', () => resolve());
          client.once('close', () => resolve());
        });
        client.stream.destroy();
        client.end(true);
      }
      await until(() => subscriber.seen.includes('dt/weather/alpha/status alpha-will'), "alpha's own will");
      expect(subscriber.seen.join('\n')).not.toMatch(/forged/);
    } finally {
      await subscriber.stop();
    }
  });

  it('refuses a wrong password, an unknown user and no login at all', async () => {
    const { url, protocolVersion } = broker();
    expect(await publishOnce(url, { username: 'alpha', password: 'beta-secret-2' }, 'dt/weather/alpha/reading', 'x', protocolVersion)).toBe('bad login');
    expect(await publishOnce(url, { username: 'gamma', password: 'gamma-secret' }, 'dt/weather/gamma/reading', 'x', protocolVersion)).toBe('bad login');
    expect(await publishOnce(url, {}, 'dt/weather/alpha/reading', 'x', protocolVersion)).toBe('bad login');
  });
}

describe('embedded aedes broker with broker.users', () => {
  let extension: BrokerExtension;
  const { log, lines } = recordingLog();
  beforeAll(async () => {
    const users = { alpha: hashPassword(alpha.password), beta: hashPassword(beta.password) };
    extension = new BrokerExtension(brokerSettings.parse({ port: 0, users, username: engine.username, password: engine.password }), log);
    await extension.start();
  });
  afterAll(async () => extension.stop());

  // aedes speaks 3.1.1, which has no refusal code in PUBACK: it drops the connection instead.
  impersonationChecks(() => ({ url: `mqtt://127.0.0.1:${extension.port}`, protocolVersion: 4 }), 'closed');

  it('logs each refusal once per client, with the reason, however often it retries', async () => {
    const url = `mqtt://127.0.0.1:${extension.port}`;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(await publishOnce(url, alpha, 'dt/weather/beta/reading', 'again', 4, 'alpha-retrying')).toBe('closed');
    }
    const refusals = lines().filter((line) => line.startsWith('broker refused client alpha-retrying'));
    expect(refusals).toEqual(['broker refused client alpha-retrying: station alpha may publish only under dt/<app>/alpha/…, not dt/weather/beta/reading']);
    expect(lines().some((line) => /refused client pub-alpha-.*wrong password for alpha/.test(line))).toBe(true);
  });

  it('stores hashes, never passwords, and refuses a password in their place', async () => {
    const hash = hashPassword('alpha-secret-1');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(hash).not.toContain('alpha-secret-1');
    expect(hashPassword('alpha-secret-1')).not.toBe(hash);
    expect(await verifyPassword('alpha-secret-1', hash)).toBe(true);
    expect(await verifyPassword('alpha-secret-2', hash)).toBe(false);
    const plain = brokerSettings.safeParse({ users: { alpha: 'alpha-secret-1' } });
    expect(plain.error?.issues[0]?.message).toMatch(/hedgerow broker hash-password/);
    const wildcard = brokerSettings.safeParse({ users: { 'a/+': hash } });
    expect(wildcard.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual(['users.a/+: a station id as a username: letters, digits, ".", "_" or "-", at most 64, no "/", "+" or "#"']);
  });

  it('lets a network-facing broker run on station logins alone', () => {
    expect(brokerSettings.safeParse({ host: '0.0.0.0', users: { alpha: hashPassword('x') } }).success).toBe(true);
  });
});

describe('stationMayPublish', () => {
  it('allows dt/<app>/<own id>/<something> only', () => {
    expect(stationMayPublish('alpha', 'dt/weather/alpha/reading')).toBe(true);
    expect(stationMayPublish('alpha', 'dt/museum/alpha/scan/x')).toBe(true);
    expect(stationMayPublish('alpha', 'dt/weather/beta/reading')).toBe(false);
    expect(stationMayPublish('alpha', 'dt/weather/alpha')).toBe(false);
    expect(stationMayPublish('alpha', 'dt/weather/alpha/')).toBe(false);
    expect(stationMayPublish('alpha', 'dt//alpha/reading')).toBe(false);
    expect(stationMayPublish('alpha', 'cmd/weather/alpha/reading')).toBe(false);
    expect(stationMayPublish('alpha', 'dt/weather/alphabet/reading')).toBe(false);
  });
});

describe('mosquitto with the generated password file and ACL', () => {
  let broker: Mosquitto;
  const temp = tempDir();
  let files: { passwordFile: string; aclFile: string };
  beforeAll(async () => {
    files = writeMosquittoFiles(join(temp.dir, 'mosquitto'), { stations: { alpha: alpha.password, beta: beta.password }, engine });
    broker = await Mosquitto.start({ files });
  });
  afterAll(async () => {
    await broker.stop();
    temp.remove();
  });

  // MQTT 5: mosquitto answers a denied publish with PUBACK reason 0x87 (not authorized).
  impersonationChecks(() => ({ url: broker.url, protocolVersion: 5 }), 'refused');

  it('keeps no password in the file, and the file private', () => {
    const text = readFileSync(files.passwordFile, 'utf8');
    expect(text.split('\n').filter(Boolean).map((line) => line.split(':')[0])).toEqual(['alpha', 'beta', 'engine']);
    for (const secret of [alpha.password, beta.password, engine.password]) expect(text).not.toContain(secret);
    expect(statSync(files.passwordFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(files.aclFile, 'utf8')).toBe(mosquittoAcl('engine'));
    expect(mosquittoAcl('engine')).toMatch(/^pattern write dt\/\+\/%u\/#$/m);
  });

  it('lets the engine publish its alerts, and nothing else', async () => {
    const subscriber = await subscribe(broker.url, engine, 5);
    try {
      expect(await publishOnce(broker.url, engine, 'dt/weather/alpha/reading', 'engine-as-alpha', 5)).toBe('refused');
      expect(await publishOnce(broker.url, engine, 'dt/alerts/alpha/frost', 'frost', 5)).toBe('acked');
      await until(() => subscriber.seen.includes('dt/alerts/alpha/frost frost'), 'the alert');
      expect(subscriber.seen.join('\n')).not.toMatch(/engine-as-alpha/);
    } finally {
      await subscriber.stop();
    }
  });

  it('refuses a login it could not write, naming the field', () => {
    expect(() => writeMosquittoFiles(temp.dir, { stations: { 'a:b': 'long-enough' } })).toThrow(/station id/);
    expect(() => writeMosquittoFiles(temp.dir, { stations: { alpha: 'short' } })).toThrow(/at least 8/);
  });
});
