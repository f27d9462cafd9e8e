import { afterEach, describe, expect, it } from 'vitest';
import { Backoff } from '../../gateway/backoff.ts';
import { PublishRate } from '../../gateway/publish-rate.ts';
import { createConnector } from '../../gateway/gateway.ts';
import { ConnectionLostError, PublishRefusedError } from '../../gateway/uplink.ts';
import { UplinkService } from '../../gateway/uplink-service.ts';
import type { UplinkConnector, UplinkSession, WillMessage } from '../../gateway/uplink.ts';
import type { Envelope } from '../../hardware/core/contract.ts';
import { Outbox } from '../../gateway/outbox.ts';
import { openTestOutbox, recordingLog, silent, startUplink, tempDir, testUplinkSettings, weatherBatch } from './helpers/gateway-harness.ts';

/** A session whose PUBACKs the test hands out. */
class FakeSession implements UplinkSession {
  readonly protocol = 'fake';
  readonly closed: Promise<Error | undefined>;
  readonly published: { topic: string; body: Envelope }[] = [];
  maxInFlight = 0;
  private readonly pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private close!: (error: Error | undefined) => void;

  constructor(readonly receiveMaximum: number | undefined) {
    this.closed = new Promise((resolve) => (this.close = resolve));
  }

  publish(topic: string, payload: string | Buffer): Promise<void> {
    if (topic.endsWith('/status')) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.published.push({ topic, body: JSON.parse(payload.toString()) as Envelope });
      this.pending.push({ resolve, reject });
      this.maxInFlight = Math.max(this.maxInFlight, this.pending.length);
    });
  }

  ackAll(): number {
    const acked = this.pending.splice(0);
    for (const entry of acked) entry.resolve();
    return acked.length;
  }

  drop(): void {
    for (const entry of this.pending.splice(0)) entry.reject(new ConnectionLostError('dropped'));
    this.close(new Error('dropped'));
  }

  async end(): Promise<void> {
    this.drop();
  }

  envelopes(): Envelope[] {
    return this.published.map((entry) => entry.body);
  }
}

class FakeConnector implements UplinkConnector {
  readonly kind = 'fake';
  readonly sessions: FakeSession[] = [];
  constructor(private readonly receiveMaximum: number | undefined) {}
  async connect(_will: WillMessage): Promise<UplinkSession> {
    const session = new FakeSession(this.receiveMaximum);
    this.sessions.push(session);
    return session;
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((done) => setTimeout(done, 2));
  }
}

/** Plays the broker: acknowledges whatever is in flight until the outbox is empty. */
async function ackUntilEmpty(session: FakeSession, outbox: Outbox): Promise<void> {
  while (outbox.stats().depth > 0) {
    session.ackAll();
    await new Promise((done) => setTimeout(done, 1));
  }
}

function fixture(receiveMaximum: number | undefined, settings: Record<string, unknown>) {
  const temp = tempDir();
  const outbox = openTestOutbox(temp.dir);
  const connector = new FakeConnector(receiveMaximum);
  const service = startUplink(outbox, testUplinkSettings({ maxRecordsPerEnvelope: 1, ...settings }), { connector });
  cleanups.push(temp.remove, () => outbox.close(), () => service.stop());
  return { outbox, connector, service };
}

describe('drain flow control', () => {
  it('never has more publishes in flight than the broker Receive Maximum allows', async () => {
    const { outbox, connector } = fixture(7, { maxInFlight: 100 });
    outbox.append(weatherBatch('station-1', 0, 200));
    await until(() => connector.sessions.length === 1);
    const session = connector.sessions[0]!;
    await ackUntilEmpty(session, outbox);
    expect(session.envelopes()).toHaveLength(200);
    expect(session.maxInFlight).toBeLessThanOrEqual(7);
    expect(session.maxInFlight).toBeGreaterThanOrEqual(6);
  });

  it('sends what another process appends after the outbox emptied', async () => {
    const { outbox, connector } = fixture(undefined, {});
    outbox.append(weatherBatch('station-1', 0, 3));
    await until(() => connector.sessions[0]?.envelopes().length === 3);
    connector.sessions[0]!.ackAll();
    await until(() => outbox.stats().depth === 0);
    // A second handle, as the station process has: no in-process wake-up, only the poll.
    const station = Outbox.open({ path: outbox.path, log: silent });
    station.append(weatherBatch('station-1', 3, 1));
    station.close();
    await until(() => connector.sessions[0]!.envelopes().length === 4);
    expect(connector.sessions[0]!.envelopes()[3]).toMatchObject({ seq: 4 });
  });

  it('caps the window at the configured maximum when the broker sends none', async () => {
    const { outbox, connector } = fixture(undefined, { maxInFlight: 4 });
    outbox.append(weatherBatch('station-1', 0, 50));
    await until(() => connector.sessions.length === 1);
    const session = connector.sessions[0]!;
    await ackUntilEmpty(session, outbox);
    expect(session.maxInFlight).toBeLessThanOrEqual(4);
  });

  it('stops refilling while the payload bytes in flight reach maxInFlightBytes, and sends everything in order', async () => {
    // Envelopes of 10 records are about 800 bytes: a 2,500-byte budget lets at most four go out.
    const { outbox, connector } = fixture(undefined, { maxInFlight: 100, maxRecordsPerEnvelope: 10, maxInFlightBytes: 2_500 });
    outbox.append(weatherBatch('station-1', 0, 300));
    await until(() => connector.sessions.length === 1);
    const session = connector.sessions[0]!;
    await ackUntilEmpty(session, outbox);
    const sizes = session.published.map((entry) => Buffer.byteLength(JSON.stringify(entry.body)));
    expect(Math.min(...sizes)).toBeGreaterThan(700);
    expect(session.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(session.maxInFlight).toBeLessThanOrEqual(Math.ceil(2_500 / Math.min(...sizes)));
    expect(session.envelopes().flatMap((envelope) => envelope.records.map((record) => record.n))).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('re-sends unacknowledged envelopes after a reconnect with the same messageId and counts the retries', async () => {
    const { outbox, connector } = fixture(undefined, { maxInFlight: 10, maxRecordsPerEnvelope: 5 });
    outbox.append(weatherBatch('station-1', 0, 40));
    await until(() => connector.sessions[0]?.envelopes().length === 8);
    const first = connector.sessions[0]!;
    const lost = first.envelopes().map((envelope) => [envelope.messageId, envelope.seq]);
    first.drop();
    await until(() => connector.sessions[1]?.envelopes().length === 8);
    const second = connector.sessions[1]!;
    expect(second.envelopes().map((envelope) => [envelope.messageId, envelope.seq])).toEqual(lost);
    second.ackAll();
    await until(() => outbox.stats().depth === 0);
    expect(outbox.stats()).toMatchObject({ retriedEnvelopes: 8, sentRecords: 40 });
  });
});

describe('refusals and IoT Core connect limits', () => {
  it('keeps the rows of a refused publish and reconnects to retry them', async () => {
    class RefusingConnector extends FakeConnector {
      override async connect(will: WillMessage): Promise<UplinkSession> {
        const session = (await super.connect(will)) as FakeSession;
        session.publish = (topic) => (topic.endsWith('/status') ? Promise.resolve() : Promise.reject(new PublishRefusedError('not authorized', 0x87)));
        return session;
      }
    }
    const temp = tempDir();
    const outbox = openTestOutbox(temp.dir);
    outbox.append(weatherBatch('station-1', 0, 5));
    const connector = new RefusingConnector(undefined);
    const service = startUplink(outbox, testUplinkSettings({ reconnectMin: '10ms', reconnectMax: '40ms' }), { connector });
    cleanups.push(temp.remove, () => outbox.close(), () => service.stop());
    await until(() => connector.sessions.length >= 3);
    expect(outbox.stats()).toMatchObject({ depth: 5, sentRecords: 0 });
    expect(service.status().lastError).toMatch(/not authorized/);
  });

  it('spaces CONNECTs at least one second apart under the iot-core profile', async () => {
    let now = 0;
    const attempts: number[] = [];
    const temp = tempDir();
    const outbox = openTestOutbox(temp.dir);
    cleanups.push(temp.remove, () => outbox.close());
    const settings = testUplinkSettings({ profile: 'iot-core', keepalive: '60s', reconnectMin: '10ms', reconnectMax: '50ms' });
    const running: { service?: UplinkService } = {};
    const connector: UplinkConnector = {
      kind: 'refused',
      connect: async () => {
        attempts.push(now);
        if (attempts.length === 6) void running.service!.stop();
        throw new Error('connection refused');
      },
    };
    const service = new UplinkService({
      outbox: () => outbox,
      connector,
      settings,
      thing: 'station-1',
      log: silent,
      now: () => now,
      sleep: async (ms) => void (now += ms),
      random: () => 0.5,
    });
    running.service = service;
    await service.start();
    await until(() => attempts.length >= 6);
    await service.stop();
    for (let i = 1; i < attempts.length; i += 1) expect(attempts[i]! - attempts[i - 1]!).toBeGreaterThanOrEqual(1_000);
  });
});

describe('PublishRate', () => {
  it('allows at most N publishes in any one-second window, a tenth of them in any 100 ms, and no fewer', async () => {
    let now = 0;
    const starts: number[] = [];
    const rate = new PublishRate(100, () => now, async (ms) => void (now += ms));
    for (let i = 0; i < 350; i += 1) {
      await rate.take();
      starts.push(now);
      now += 1;
    }
    for (let i = 100; i < starts.length; i += 1) expect(starts[i]! - starts[i - 100]!).toBeGreaterThanOrEqual(1000);
    for (let i = 10; i < starts.length; i += 1) expect(starts[i]! - starts[i - 10]!).toBeGreaterThanOrEqual(100);
    // 35 tenths of a second for 350 publishes: the full rate, spread out.
    expect(starts[349]).toBeLessThan(3_500);
  });

  it('says how many publishes fit now, and waits for the next without taking it', async () => {
    let now = 0;
    const rate = new PublishRate(100, () => now, async (ms) => void (now += ms));
    expect(rate.available()).toBe(10);
    for (let i = 0; i < 10; i += 1) expect(rate.tryTake()).toBe(true);
    expect(rate.available()).toBe(0);
    expect(rate.tryTake()).toBe(false);
    await rate.wait();
    expect(now).toBe(100);
    expect(rate.available()).toBe(10);
  });

  it('is unlimited at 0', async () => {
    const rate = new PublishRate(0, () => 0, async () => {
      throw new Error('must not sleep');
    });
    for (let i = 0; i < 1000; i += 1) await rate.take();
    expect(rate.available()).toBe(Infinity);
  });
});

describe('Backoff', () => {
  it('doubles its bound up to the maximum and draws the delay uniformly below it (full jitter)', () => {
    let draw = 0.999_999;
    const backoff = new Backoff(100, 1_000, () => draw);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([99, 199, 399, 799, 999]);
    draw = 0;
    expect(backoff.next()).toBe(0);
    draw = 0.5;
    backoff.reset();
    expect(backoff.next()).toBe(50);
  });
});

describe('uplink client choice', () => {
  it('falls back to mqtt.js with a clear log line when aws-iot-device-sdk-v2 cannot load', async () => {
    const { log, lines } = recordingLog();
    const settings = testUplinkSettings({ url: 'mqtt://127.0.0.1:1883' });
    const connector = await createConnector({ ...settings, client: 'aws-iot' }, 'c', log, async () => {
      throw new Error('Cannot find module aws-crt-nodejs.node');
    });
    expect(connector.kind).toBe('mqtt.js');
    expect(lines().join('\n')).toMatch(/aws-iot-device-sdk-v2 cannot load .*using mqtt\.js/);
  });

  it('uses the SDK where it loads', async () => {
    const { log } = recordingLog();
    const settings = testUplinkSettings({ url: 'mqtts://127.0.0.1:8883' });
    const connector = await createConnector({ ...settings, client: 'aws-iot' }, 'c', log);
    expect(connector.kind).toBe('aws-iot-device-sdk-v2');
  });
});
