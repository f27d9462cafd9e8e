import type { Logger } from 'pino';
import type * as AwsIotSdk from 'aws-iot-device-sdk-v2';
import type { UplinkSettings } from './settings.ts';
import { ConnectionLostError, PendingPublishes, PublishRefusedError } from './uplink.ts';
import type { UplinkConnector, UplinkSession, WillMessage } from './uplink.ts';

/** PUBACK reason codes from 0x80 up are failures; 0x10 "no matching subscribers" is a success. */
const FIRST_FAILURE_REASON = 0x80;
const CONNACK_TIMEOUT_MS = 10_000;
const DEFAULT_MQTTS_PORT = 8883;

type Sdk = typeof AwsIotSdk;
type Mqtt5Client = InstanceType<Sdk['mqtt5']['Mqtt5Client']>;

/** Loads the SDK; throws where its native addon is missing (32-bit ARM Pis). Injectable for tests. */
export type SdkLoader = () => Promise<Sdk>;
export const loadAwsIotSdk: SdkLoader = () => import('aws-iot-device-sdk-v2');

export interface AwsIotConnectorOptions {
  settings: UplinkSettings;
  clientId: string;
  log: Logger;
}

/**
 * Sessions over aws-iot-device-sdk-v2's MQTT 5 client with mutual TLS. The SDK's own reconnect and
 * offline queue are switched off in effect: a session stops its client at the first disconnection
 * and every queued publish fails, so the outbox stays the only store.
 */
export class AwsIotConnector implements UplinkConnector {
  readonly kind = 'aws-iot-device-sdk-v2';

  constructor(
    private readonly sdk: Sdk,
    private readonly options: AwsIotConnectorOptions,
  ) {}

  connect(will: WillMessage): Promise<UplinkSession> {
    const { settings, clientId } = this.options;
    const { iot, mqtt5 } = this.sdk;
    const url = new URL(settings.url);
    const builder = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromPath(
      url.hostname,
      settings.tls.cert!,
      settings.tls.key!,
    );
    if (settings.tls.ca) builder.withCertificateAuthorityFromPath(undefined, settings.tls.ca);
    builder
      .withPort(url.port ? Number(url.port) : DEFAULT_MQTTS_PORT)
      .withConnackTimeoutMs(CONNACK_TIMEOUT_MS)
      .withSessionBehavior(mqtt5.ClientSessionBehavior.Clean)
      .withOfflineQueueBehavior(mqtt5.ClientOperationQueueBehavior.FailAllOnDisconnect)
      .withConnectProperties({
        keepAliveIntervalSeconds: Math.round(settings.keepalive / 1000),
        clientId,
        will: { topicName: will.topic, payload: will.payload, qos: mqtt5.QoS.AtLeastOnce, retain: true },
      });
    const client = new mqtt5.Mqtt5Client(builder.build());
    return new Promise<UplinkSession>((resolve, reject) => {
      client.once('connectionSuccess', (event) => {
        client.removeAllListeners('connectionFailure');
        resolve(new AwsIotSession(client, event.settings.receiveMaximumFromServer));
      });
      client.once('connectionFailure', (event) => {
        void stopClient(client).then(() => reject(new Error(`AWS IoT connect to ${settings.url} failed: ${event.error.toString()}`)));
      });
      client.start();
    });
  }
}

class AwsIotSession implements UplinkSession {
  readonly protocol = 'MQTT 5 (aws-iot-device-sdk-v2)';
  readonly closed: Promise<Error | undefined>;
  private readonly pending = new PendingPublishes();
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly client: Mqtt5Client,
    readonly receiveMaximum: number | undefined,
  ) {
    this.closed = new Promise((resolve) => {
      client.once('disconnection', (event) => {
        const error = new ConnectionLostError(`connection lost: ${event.error.toString()}`);
        this.pending.failAll(error);
        void this.stop().then(() => resolve(error));
      });
      client.once('stopped', () => {
        this.pending.failAll(new ConnectionLostError('client stopped'));
        resolve(undefined);
      });
    });
  }

  publish(topic: string, payload: string | Buffer, options: { retain?: boolean; qos?: 0 | 1 } = {}): Promise<void> {
    return this.pending.track((resolve, reject) => {
      this.client
        .publish({ topicName: topic, payload, qos: options.qos ?? 1, retain: options.retain ?? false })
        .then((puback) => {
          const reason = puback?.reasonCode ?? 0;
          if (reason < FIRST_FAILURE_REASON) resolve();
          else reject(new PublishRefusedError(`broker refused the publish (reason 0x${reason.toString(16)})`, reason));
        }, reject);
    });
  }

  async end(): Promise<void> {
    await this.stop();
    await this.closed;
  }

  private stop(): Promise<void> {
    this.stopping ??= stopClient(this.client);
    return this.stopping;
  }
}

async function stopClient(client: Mqtt5Client): Promise<void> {
  const stopped = new Promise<void>((resolve) => client.once('stopped', () => resolve()));
  client.stop();
  await stopped;
  client.close();
}

/**
 * The connector the settings ask for. `aws-iot` falls back to mqtt.js, with one clear log line, where
 * the SDK's native binary does not load.
 */
export async function awsIotConnectorOrNull(
  options: AwsIotConnectorOptions,
  load: SdkLoader = loadAwsIotSdk,
): Promise<AwsIotConnector | null> {
  try {
    return new AwsIotConnector(await load(), options);
  } catch (error) {
    options.log.warn(
      `uplink.client is aws-iot but aws-iot-device-sdk-v2 cannot load on this ${process.arch} machine ` +
        `(${(error as Error).message.split('\n')[0]}): using mqtt.js, which reaches AWS IoT Core over mTLS as well`,
    );
    return null;
  }
}
