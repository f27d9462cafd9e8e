import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import type { Extension } from '../hardware/core/extension.ts';
import type { BrokerSettings } from './settings.ts';

/** aedes's CONNACK code for a bad username or password (MQTT 3.1.1 code 4). */
const BAD_CREDENTIALS = 4;

/**
 * The embedded MQTT broker (aedes, MQTT 3.1.1), so `npm start` needs no other software and a
 * classroom gateway can take several Pis. It listens on 127.0.0.1 unless told otherwise; the settings
 * schema refuses any other address without a username and password.
 */
export class BrokerExtension implements Extension {
  readonly name = 'broker';
  private broker: Aedes | undefined;
  private server: Server | undefined;

  constructor(
    private readonly settings: BrokerSettings,
    private readonly log: Logger,
  ) {}

  /** The bound port (useful when settings.port is 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.settings.port;
  }

  async start(): Promise<void> {
    const { host, port, username, password } = this.settings;
    const broker = await Aedes.createBroker();
    if (username !== undefined && password !== undefined) {
      broker.authenticate = (_client, user, pass, done) => {
        if (user !== undefined && pass !== undefined && same(user, username) && same(pass.toString(), password)) return done(null, true);
        done(Object.assign(new Error('bad username or password'), { returnCode: BAD_CREDENTIALS }), false);
      };
    }
    broker.on('clientError', (client, error) => this.log.debug({ client: client.id, err: error }, 'broker client error'));
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        broker.close();
        const hint = error.code === 'EADDRINUSE' ? ': another broker (mosquitto?) holds it; stop it or set broker.port' : '';
        reject(new Error(`broker cannot listen on ${host}:${port} (${error.code ?? error.message})${hint}`));
      });
      server.listen(port, host, () => resolve());
    });
    this.broker = broker;
    this.server = server;
    this.log.info(`MQTT broker listening on ${host}:${this.port}${username ? ' (username and password required)' : ''}`);
  }

  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = undefined;
    this.server = undefined;
    await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
