// `hedgerow broker hash-password` and `mosquitto-files` from the real command, and a `hedgerow broker`
// started on the hash it printed: the station logs in as itself and may not publish as another.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../gateway/broker-users.ts';

const CLI = join(import.meta.dirname, '../../bin/hedgerow.js');
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function hedgerow(args: string[], input: string) {
  return spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 60_000 });
}

function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-logins-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('hedgerow broker hash-password', () => {
  it('prints a broker.users line a broker started from it accepts, and refuses a forged topic', async () => {
    const printed = hedgerow(['broker', 'hash-password', '--station', 'alpha'], 'alpha-pass-1\n');
    expect(printed.status).toBe(0);
    const match = /^alpha: "(scrypt\$[^"]+)"\n$/.exec(printed.stdout);
    expect(match).not.toBeNull();
    expect(await verifyPassword('alpha-pass-1', match![1]!)).toBe(true);

    const dir = temp();
    writeFileSync(join(dir, 'hedgerow.json'), JSON.stringify({ broker: { users: { alpha: match![1] } } }));
    const child = spawn(process.execPath, [CLI, '--config', join(dir, 'hedgerow.json'), '--log-format', 'json', 'broker', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // A hard stop even if the broker never answers.
    const killer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    cleanups.push(() => {
      clearTimeout(killer);
      child.kill('SIGKILL');
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', () => reject(new Error(`hedgerow broker exited: ${output}`)));
      const poll = setInterval(() => {
        const listening = /listening on 127\.0\.0\.1:(\d+) \(1 station logins/.exec(output);
        if (listening) {
          clearInterval(poll);
          resolve(Number(listening[1]));
        }
      }, 20);
      cleanups.push(() => clearInterval(poll));
    });

    const outcome = async (topic: string, password: string): Promise<string> => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: 'alpha', password, protocolVersion: 4, reconnectPeriod: 0 });
      try {
        return await new Promise<string>((resolve) => {
          client.once('error', () => resolve('bad login'));
          client.once('close', () => resolve('closed'));
          client.once('connect', () => client.publish(topic, 'x', { qos: 1 }, (error) => resolve(error ? 'refused' : 'acked')));
        });
      } finally {
        client.end(true);
      }
    };
    expect(await outcome('dt/weather/alpha/reading', 'alpha-pass-1')).toBe('acked');
    expect(await outcome('dt/weather/beta/reading', 'alpha-pass-1')).toBe('closed');
    expect(await outcome('dt/weather/alpha/reading', 'alpha-pass-2')).toBe('bad login');
    // The refusal is logged before aedes drops the connection, but the child's pipe may lag behind.
    while (!output.includes('not dt/weather/beta/reading')) await new Promise((done) => setTimeout(done, 20));
    expect(output).toMatch(/refused client .*station alpha may publish only under dt\/<app>\/alpha\/…, not dt\/weather\/beta\/reading/);
  });

  it('says what to do when stdin is empty or the station id is not one', () => {
    const empty = hedgerow(['broker', 'hash-password'], '');
    expect(empty.status).toBe(1);
    expect(empty.stderr).toBe('hedgerow: no password on stdin: echo "$PASSWORD" | hedgerow broker hash-password\n');
    const wildcard = hedgerow(['broker', 'hash-password', '--station', 'a/+'], 'pw\n');
    expect(wildcard.status).toBe(1);
    expect(wildcard.stderr).toMatch(/--station a\/\+: a station id as a username/);
  });
});

describe('hedgerow broker mosquitto-files', () => {
  it('writes the password file and ACL from stdin and prints the mosquitto.conf lines', () => {
    const dir = join(temp(), 'mosquitto');
    const result = hedgerow(['broker', 'mosquitto-files', '--dir', dir, '--engine-user', 'engine'], 'alpha:alpha-pass-1\nbeta:beta-pass-2\nengine:engine-pass-3\n');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`password_file ${join(dir, 'passwd')}`);
    expect(result.stdout).toContain(`acl_file ${join(dir, 'acl')}`);
    const passwd = readFileSync(join(dir, 'passwd'), 'utf8');
    expect(passwd.split('\n').filter(Boolean).map((line) => line.split(':')[0])).toEqual(['alpha', 'beta', 'engine']);
    expect(passwd).not.toMatch(/pass-\d/);
    expect(readFileSync(join(dir, 'acl'), 'utf8')).toMatch(/^pattern write dt\/\+\/%u\/#\n\nuser engine\ntopic read dt\/#\ntopic write dt\/alerts\/#\n$/m);
  });

  it('names the bad line or field and writes nothing', () => {
    const dir = join(temp(), 'mosquitto');
    const noColon = hedgerow(['broker', 'mosquitto-files', '--dir', dir], 'alpha alpha-pass-1\n');
    expect(noColon.stderr).toBe('hedgerow: stdin line 1: expected "station-id:password"\n');
    const short = hedgerow(['broker', 'mosquitto-files', '--dir', dir], 'alpha:short\n');
    expect(short.status).toBe(1);
    expect(short.stderr).toBe('hedgerow: cannot write the mosquitto logins:\n  stations.alpha: at least 8 characters\n');
    expect(() => readFileSync(join(dir, 'passwd'))).toThrow();
  });
});
