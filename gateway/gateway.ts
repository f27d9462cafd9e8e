import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { topics } from '../hardware/core/contract.ts';
import { lazyExtension, type Extension } from '../hardware/core/extension.ts';
import { awsIotConnectorOrNull } from './aws-iot-uplink.ts';
import type { SdkLoader } from './aws-iot-uplink.ts';
import { HomeAssistantDiscovery } from './home-assistant.ts';
import { MqttConnector } from './mqtt-uplink.ts';
import type { Outbox } from './outbox.ts';
import { prepareOutboxFolder } from './outbox-path.ts';
import { openOutbox } from './outbox-quarantine.ts';
import type { Sleep } from './publish-rate.ts';
import type { BrokerSettings, GatewaySettings, OutboxSettings, UplinkSettings } from './settings.ts';
import type { UplinkConnector } from './uplink.ts';
import { UplinkService } from './uplink-service.ts';

export interface GatewayContext {
  log: Logger;
  /** Folder that relative outbox paths are under. */
  dataDir: string;
  /** Thing name (the station or box id): status topic level and default client id. */
  thing: string;
  /**
   * An outbox the caller opens (the station in the same process), or a getter for one that an earlier
   * extension opens on start; else the gateway opens its own.
   */
  outbox?: Outbox | (() => Outbox);
  /** Run the embedded broker (default: settings.broker.enabled). `hedgerow gateway` passes false. */
  broker?: boolean;
  now?: () => number;
  sleep?: Sleep;
  random?: () => number;
  /** For tests: how aws-iot-device-sdk-v2 is loaded. */
  loadAwsIotSdk?: SdkLoader;
}

/** The outbox file's absolute path from the settings. */
export function outboxPath(settings: OutboxSettings, dataDir: string): string {
  return resolve(dataDir, settings.path);
}

/** Opens the outbox (quarantining a damaged file) on start and closes it on stop. */
export class OutboxExtension implements Extension {
  readonly name = 'outbox';
  private handle: Outbox | undefined;

  constructor(
    private readonly settings: OutboxSettings,
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  get outbox(): Outbox {
    if (!this.handle) throw new Error('the outbox is not open yet: start the outbox extension first');
    return this.handle;
  }

  async start(): Promise<void> {
    prepareOutboxFolder(this.path);
    this.handle = openOutbox({
      path: this.path,
      log: this.log,
      synchronous: this.settings.synchronous,
      busyTimeoutMs: this.settings.busyTimeout,
      capBytes: this.settings.capBytes,
      capPolicy: this.settings.capPolicy,
      integrityCheck: this.settings.integrityCheck,
    });
    const stats = this.handle.stats();
    this.log.info(`outbox ${this.path}: ${stats.depth} records queued (${stats.bytes} bytes)`);
  }

  async stop(): Promise<void> {
    this.handle?.close();
    this.handle = undefined;
  }
}

/** The connector the settings ask for; aws-iot falls back to mqtt.js where the SDK cannot load. */
export async function createConnector(
  settings: UplinkSettings,
  clientId: string,
  log: Logger,
  loadSdk?: SdkLoader,
): Promise<UplinkConnector> {
  if (settings.client === 'aws-iot') {
    const connector = await awsIotConnectorOrNull({ settings, clientId, log }, loadSdk);
    if (connector) return connector;
  }
  return new MqttConnector({ settings, clientId, log });
}

/** Starts the connector lazily, so a fallback decision is logged at start, not at config time. */
class LazyConnector implements UplinkConnector {
  kind = 'pending';
  private inner: UplinkConnector | undefined;

  constructor(private readonly create: () => Promise<UplinkConnector>) {}

  async connect(will: Parameters<UplinkConnector['connect']>[0]) {
    this.inner ??= await this.create();
    this.kind = this.inner.kind;
    return this.inner.connect(will);
  }
}

/**
 * The gateway's extensions in start order: outbox (unless the caller passes one), broker (when
 * enabled), uplink (when enabled). Give them to a Controller beside the station's.
 */
export function createGatewayExtensions(settings: GatewaySettings, ctx: GatewayContext): Extension[] {
  const extensions: Extension[] = [];
  let outbox: () => Outbox;
  if (ctx.outbox) {
    const given = ctx.outbox;
    outbox = typeof given === 'function' ? given : () => given;
  } else {
    const owned = new OutboxExtension(settings.outbox, outboxPath(settings.outbox, ctx.dataDir), ctx.log.child({ part: 'outbox' }));
    extensions.push(owned);
    outbox = () => owned.outbox;
  }
  if (ctx.broker ?? settings.broker.enabled) extensions.push(createBrokerExtension(settings.broker, ctx.log));
  if (settings.uplink.enabled) {
    const log = ctx.log.child({ part: 'uplink' });
    const clientId = settings.uplink.clientId ?? `hedgerow-${ctx.thing}`;
    const homeAssistant = settings.homeAssistant.enabled
      ? new HomeAssistantDiscovery({ settings: settings.homeAssistant, thing: ctx.thing, statusTopic: topics.status(settings.uplink.app, ctx.thing), log: ctx.log.child({ part: 'home-assistant' }), now: ctx.now })
      : undefined;
    extensions.push(
      new UplinkService({
        outbox,
        connector: new LazyConnector(() => createConnector(settings.uplink, clientId, log, ctx.loadAwsIotSdk)),
        settings: settings.uplink,
        thing: ctx.thing,
        log,
        now: ctx.now,
        sleep: ctx.sleep,
        random: ctx.random,
        observer: homeAssistant,
      }),
    );
    // After the uplink, so it stops first and publishes nothing into a closing session.
    if (homeAssistant) extensions.push(homeAssistant);
  }
  return extensions;
}

/**
 * The embedded broker (`hedgerow broker`, `npm start`). aedes is loaded when it starts, so a process
 * without a broker (`hedgerow gateway` or `station` on a Pi) never holds it in memory.
 */
export function createBrokerExtension(settings: BrokerSettings, log: Logger): Extension {
  return lazyExtension('broker', async () => {
    const { BrokerExtension } = await import('./broker.ts');
    return new BrokerExtension(settings, log.child({ part: 'broker' }));
  });
}
