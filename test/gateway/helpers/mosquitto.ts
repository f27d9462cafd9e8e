// Starts Debian's mosquitto 2.x on a free loopback port with a temp config, for integration tests.
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface MosquittoOptions {
  /** Require this username/password (mosquitto_passwd file). */
  user?: { username: string; password: string };
  /** Serve TLS with these server files and require a client certificate signed by `ca`. */
  mtls?: TlsFiles;
  /** Use this password file and ACL (gateway/broker-mosquitto.ts writes them); anonymous clients are refused. */
  files?: { passwordFile: string; aclFile: string };
  port?: number;
  /** mosquitto's max_inflight_messages, which it sends MQTT 5 clients as Receive Maximum. Default 0 (no limit). */
  receiveMaximum?: number;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly config: string,
  ) {}

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-mosquitto-'));
    const port = options.port ?? (await freePort());
    // Persistence keeps the test subscriber's session (and what was queued for it) across an outage.
    const lines = ['user root', 'persistence true', `persistence_location ${dir}/`, 'max_queued_messages 1000000', `max_inflight_messages ${options.receiveMaximum ?? 0}`, 'log_dest stderr', 'log_type error', 'per_listener_settings true', `listener ${port} 127.0.0.1`];
    if (options.user) {
      const passwords = join(dir, 'passwd');
      writeFileSync(passwords, '');
      execFileSync('mosquitto_passwd', ['-b', passwords, options.user.username, options.user.password]);
      lines.push('allow_anonymous false', `password_file ${passwords}`);
    } else if (options.files) {
      lines.push('allow_anonymous false', `password_file ${options.files.passwordFile}`, `acl_file ${options.files.aclFile}`);
    } else {
      lines.push('allow_anonymous true');
    }
    if (options.mtls) {
      lines.push(`cafile ${options.mtls.ca}`, `certfile ${options.mtls.cert}`, `keyfile ${options.mtls.key}`, 'require_certificate true');
    }
    const config = join(dir, 'mosquitto.conf');
    writeFileSync(config, `${lines.join('\n')}\n`);
    const broker = new Mosquitto(port, dir, config);
    await broker.resume();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and config. */
  async resume(): Promise<void> {
    const child = spawn('mosquitto', ['-c', this.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`mosquitto did not start on ${this.port}: ${stderr}`);
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  /** Stops the broker process (an outage); resume() brings it back. */
  async pause(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    // SIGTERM: mosquitto saves its sessions, as a broker restarted by its operator would.
    child.kill('SIGTERM');
    await once(child, 'exit');
  }

  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
