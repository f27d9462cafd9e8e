import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerExtension } from '../../gateway/broker.ts';
import { createGatewayExtensions } from '../../gateway/gateway.ts';
import { HomeAssistantDiscovery, RAIN_TOTAL_KEY } from '../../gateway/home-assistant.ts';
import { homeAssistantSettings } from '../../gateway/home-assistant-settings.ts';
import { MqttConnector } from '../../gateway/mqtt-uplink.ts';
import type { UplinkConnector } from '../../gateway/uplink.ts';
import { UplinkService } from '../../gateway/uplink-service.ts';
import { brokerSettings, gatewaySettings } from '../../gateway/settings.ts';
import { Controller } from '../../hardware/core/controller.ts';
import { topics, WEATHER_FIELDS } from '../../hardware/core/contract.ts';
import { openTestOutbox, silent, tempDir, testUplinkSettings, weatherBatch } from './helpers/gateway-harness.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { Collector } from './helpers/subscriber.ts';
import { mqttSensorDiscovery } from './home-assistant-schema.ts';

// A station with homeAssistant.enabled against the embedded aedes broker, reached through a TCP
// relay the test can cut: what a Home Assistant subscribed to homeassistant/# would see.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Forwards TCP connections to `port`; `cut()` drops them all at once, as a Wi-Fi outage would (no DISCONNECT). */
async function relay(port: number): Promise<{ port: number; cut: () => void; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    close: () => {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Received {
  topic: string;
  body: Record<string, unknown>;
  retain: boolean;
}

async function subscribe(port: number, filters: string[]): Promise<{ client: MqttClient; messages: Received[] }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 100, clientId: `ha-${process.pid}-${Math.random()}` });
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    if (payload.length > 0) messages.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown>, retain: packet.retain });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(filters, { qos: 1 }, (error) => (error ? reject(error) : resolve())));
    client.once('error', reject);
  });
  cleanups.push(() => client.endAsync(true));
  return { client, messages };
}

async function until(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const reading = (ts: number, overrides: Record<string, unknown> = {}) => ({
  ts,
  ambient_temperature: 3.4,
  ground_temperature: 1.2,
  air_quality: 12,
  air_pressure: 1012.6,
  humidity: 91,
  wind_direction: 225,
  wind_speed: 14.4,
  wind_gust_speed: 31.1,
  rainfall: 0.2794,
  sensors: { bme280: 'ok' },
  ...overrides,
});

describe('Home Assistant discovery through a real broker', () => {
  it('retains the configs, carries the newest delivered reading, and goes unavailable on the last will', async () => {
    const broker = new BrokerExtension(brokerSettings.parse({ port: 0 }), silent);
    await broker.start();
    cleanups.push(() => broker.stop());
    const link = await relay(broker.port);
    cleanups.push(() => link.close());
    const temp = tempDir();
    cleanups.push(temp.remove);
    const outbox = openTestOutbox(temp.dir);
    cleanups.push(() => outbox.close());

    const thing = 'hill-2';
    const settings = gatewaySettings.parse({
      broker: { enabled: false },
      uplink: { url: `mqtt://127.0.0.1:${link.port}`, reconnectMin: '50ms', reconnectMax: '200ms', pollInterval: '50ms', keepalive: '5s' },
      homeAssistant: { enabled: true },
    });
    const extensions = createGatewayExtensions(settings, { log: silent, dataDir: temp.dir, thing, outbox });
    expect(extensions.map((e) => e.name)).toEqual(['uplink', 'home-assistant']);
    const controller = new Controller(extensions, silent);
    await controller.start();
    cleanups.push(() => controller.stop());

    const statusTopic = topics.status('weather', thing);
    const watcher = await subscribe(broker.port, [statusTopic]);
    await until(() => watcher.messages.some((m) => m.body.state === 'online'), 'the station to be online');

    // Home Assistant subscribing after the station connected: everything it needs is retained.
    const ha = await subscribe(broker.port, ['homeassistant/#', 'dt/weather/+/latest']);
    await until(() => ha.messages.filter((m) => m.topic.startsWith('homeassistant/')).length === WEATHER_FIELDS.length, 'every discovery config');
    const configs = ha.messages.filter((m) => m.topic.startsWith('homeassistant/'));
    for (const config of configs) {
      expect(config.retain, config.topic).toBe(true);
      expect(config.topic).toMatch(/^homeassistant\/sensor\/hedgerow_hill_2\/[a-z_]+\/config$/);
      const parsed = mqttSensorDiscovery.safeParse(config.body);
      expect(parsed.success, parsed.error?.message).toBe(true);
      expect(config.body.availability).toEqual([expect.objectContaining({ topic: statusTopic })]);
    }

    const t0 = Date.now();
    outbox.append([
      { deviceId: thing, topic: topics.weatherReading(thing), record: reading(t0) },
      { deviceId: thing, topic: topics.weatherReading(thing), record: reading(t0 + 1000, { ambient_temperature: -0.5, wind_speed: null }) },
    ]);
    const states = () => ha.messages.filter((m) => m.topic === topics.weatherLatest(thing));
    await until(() => states().some((m) => m.body.ts === t0 + 1000), 'the state of the newest reading');
    const state = states().at(-1)!.body;
    expect(state).toMatchObject({ ts: t0 + 1000, ambient_temperature: -0.5, wind_speed: null, air_pressure: 1012.6, [RAIN_TOTAL_KEY]: 0.5588 });
    // Each config's value_template reads a key the state carries.
    for (const config of configs) {
      const key = /value_json\.([a-z_]+)/.exec(config.body.value_template as string)![1]!;
      expect(state, key).toHaveProperty(key);
    }

    // The station's connection drops without a DISCONNECT: the broker sends its last will, and the
    // availability template (state == 'online') turns every sensor unavailable.
    const before = watcher.messages.length;
    // Counted before the cut: under load the station may be back and have republished before the will is seen.
    const haBefore = ha.messages.length;
    link.cut();
    await until(() => watcher.messages.slice(before).some((m) => m.body.state === 'offline'), 'the last will on the status topic');
    const will = watcher.messages.slice(before).find((m) => m.body.state === 'offline')!;
    expect(will.body).toMatchObject({ thing, lastError: expect.stringMatching(/without a clean close/) });

    // It reconnects by itself and republishes its configs and latest state.
    await until(() => watcher.messages.slice(before).some((m) => m.body.state === 'online'), 'the station back online');
    await until(() => ha.messages.slice(haBefore).some((m) => m.topic === topics.weatherLatest(thing) && m.body.ts === t0 + 1000), 'the state again after reconnecting');
  });
});

/** Wraps a connector's sessions to track the QoS 1 publishes awaiting PUBACK, as MQTT 5's Receive Maximum counts them. */
function countingConnector(inner: UplinkConnector): { connector: UplinkConnector; peak: () => number; receiveMaximum: () => number | undefined } {
  let outstanding = 0;
  let peak = 0;
  let receiveMaximum: number | undefined;
  const connector: UplinkConnector = {
    kind: inner.kind,
    async connect(will) {
      const session = await inner.connect(will);
      receiveMaximum = session.receiveMaximum;
      return {
        receiveMaximum: session.receiveMaximum,
        protocol: session.protocol,
        closed: session.closed,
        end: () => session.end(),
        publish(topic, payload, options) {
          if ((options?.qos ?? 1) === 0) return session.publish(topic, payload, options);
          outstanding += 1;
          peak = Math.max(peak, outstanding);
          return session.publish(topic, payload, options).finally(() => (outstanding -= 1));
        },
      };
    },
  };
  return { connector, peak: () => peak, receiveMaximum: () => receiveMaximum };
}

describe('Home Assistant discovery beside a full drain window', () => {
  it("never adds to the QoS 1 publishes awaiting PUBACK beyond the broker's Receive Maximum", async () => {
    // Receive Maximum 5: the drain uses 4 slots and the status the fifth. MQTT 5 (4.9) forbids a
    // client more unacknowledged QoS 1 publishes than that, and mqtt.js does not hold them back, so
    // nine QoS 1 configs on top would break it (mosquitto tolerates it; other brokers disconnect, 0x93).
    const broker = await Mosquitto.start({ receiveMaximum: 5 });
    cleanups.push(() => broker.stop());
    const temp = tempDir();
    cleanups.push(temp.remove);
    const outbox = openTestOutbox(temp.dir);
    cleanups.push(() => outbox.close());
    outbox.append(weatherBatch('field-3', 0, 300));
    const uplink = testUplinkSettings({ url: broker.url, protocolVersion: 5, maxRecordsPerEnvelope: 1 });
    const counting = countingConnector(new MqttConnector({ settings: uplink, clientId: `ha-window-${process.pid}`, log: silent }));
    const homeAssistant = new HomeAssistantDiscovery({
      settings: homeAssistantSettings.parse({ enabled: true }),
      thing: 'field-3',
      statusTopic: topics.status('weather', 'field-3'),
      log: silent,
    });
    const service = new UplinkService({ outbox: () => outbox, connector: counting.connector, settings: uplink, thing: 'field-3', log: silent, observer: homeAssistant });
    const controller = new Controller([service, homeAssistant], silent);
    const collector = await Collector.start(broker.url, 'dt/weather/+/reading');
    cleanups.push(() => collector.stop());
    await controller.start();
    cleanups.push(() => controller.stop());
    await collector.until(() => new Set(collector.records().map((r) => r.n)).size === 300);
    const ha = await subscribe(broker.port, ['homeassistant/#', 'dt/weather/field-3/latest']);
    await until(() => ha.messages.filter((m) => m.topic.startsWith('homeassistant/')).length === WEATHER_FIELDS.length, 'every discovery config');
    await until(() => ha.messages.some((m) => m.topic === topics.weatherLatest('field-3') && m.body.ts === 1_700_000_000_000 + 299_000), 'the newest reading as state');
    expect(counting.receiveMaximum()).toBe(5);
    expect(counting.peak()).toBeLessThanOrEqual(5);
  });
});
