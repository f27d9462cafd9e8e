import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import type { Extension } from '../hardware/core/extension.ts';
import type { BrokerSettings } from './settings.ts';
import { authenticateLogin, sameSecret, stationMayPublish } from './broker-users.ts';
import type { BrokerRole } from './broker-users.ts';

/** aedes's CONNACK code for a bad username or password (MQTT 3.1.1 code 4). */
const BAD_CREDENTIALS = 4;
/** Distinct (client, reason) refusals remembered so each is logged once; a flood of made-up ids cannot grow it past this. */
const MAX_REFUSALS_REMEMBERED = 1_000;

/**
 * The embedded MQTT broker (aedes, MQTT 3.1.1), so `npm start` needs no other software and a
 * classroom gateway can take several Pis. It listens on 127.0.0.1 unless told otherwise; the settings
 * schema refuses any other address without a username and password. With `broker.users` each station
 * logs in as itself and may publish only under dt/<app>/<its id>/… (gateway/broker-users.ts).
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
    const { host, port, username, password, users } = this.settings;
    const broker = await Aedes.createBroker();
    if (users !== undefined) {
      this.guardStations(broker);
    } else if (username !== undefined && password !== undefined) {
      broker.authenticate = (_client, user, pass, done) => {
        if (user !== undefined && pass !== undefined && sameSecret(user, username) && sameSecret(pass.toString(), password)) return done(null, true);
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
    const logins = users ? ` (${Object.keys(users).length} station logins, each publishing only under dt/<app>/<its id>/…)` : username ? ' (username and password required)' : '';
    this.log.info(`MQTT broker listening on ${host}:${this.port}${logins}`);
  }

  /** One login per station: its role is kept per connection, and each refusal logged once per client. */
  private guardStations(broker: Aedes): void {
    const { username, password, users = {} } = this.settings;
    const logins = { users, ...(username !== undefined && password !== undefined ? { admin: { username, password } } : {}) };
    const roles = new WeakMap<object, BrokerRole>();
    const warned = new Set<string>();
    const refuse = (clientId: string, reason: string): void => {
      const key = `${clientId}\0${reason}`;
      // aedes drops a client whose publish is refused, and it reconnects: say it once, not per retry.
      if (warned.has(key)) return;
      if (warned.size >= MAX_REFUSALS_REMEMBERED) warned.clear();
      warned.add(key);
      this.log.warn({ client: clientId }, `broker refused client ${clientId}: ${reason}`);
    };
    broker.authenticate = (client, user, pass, done) => {
      void authenticateLogin(logins, user, pass).then(
        (role) => {
          if (typeof role === 'string') {
            refuse(client.id, role);
            return done(Object.assign(new Error(role), { returnCode: BAD_CREDENTIALS }), false);
          }
          roles.set(client, role);
          done(null, true);
        },
        (error: unknown) => {
          refuse(client.id, `password check failed (${String(error)})`);
          done(Object.assign(new Error('password check failed'), { returnCode: BAD_CREDENTIALS }), false);
        },
      );
    };
    broker.authorizePublish = (client, packet, done) => {
      // A null client is the broker's own message ($SYS); a will comes with its client.
      const role = client ? roles.get(client) : { kind: 'admin' as const };
      if (role?.kind === 'admin' || (role?.kind === 'station' && stationMayPublish(role.station, packet.topic))) return done(null);
      const who = role?.kind === 'station' ? `station ${role.station}` : 'a client with no login';
      refuse(client?.id ?? '', `${who} may publish only under dt/<app>/${role?.kind === 'station' ? role.station : '<its id>'}/…, not ${packet.topic}`);
      done(new Error(`not allowed to publish to ${packet.topic}`));
    };
  }

  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = undefined;
    this.server = undefined;
    await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
