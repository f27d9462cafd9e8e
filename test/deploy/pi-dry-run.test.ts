import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// deploy.sh pi / cloud without a machine: --dry-run prints the commands and runs none, and bad input is
// refused with what to do. Every call has a kill timer (spawnSync timeout).
const deploy = (...args: string[]) =>
  spawnSync('bash', ['deploy.sh', ...args], { encoding: 'utf8', timeout: 60_000 });

const deployWaiting = (wait: string, ...args: string[]) =>
  spawnSync('bash', ['deploy.sh', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HEDGEROW_SSH_WAIT: wait } });

/** The same in a child that does not block this process: the test's own server must answer ssh meanwhile. */
function deployWaitingAsync(wait: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['deploy.sh', ...args], { env: { ...process.env, HEDGEROW_SSH_WAIT: wait } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('deploy.sh pi --dry-run', () => {
  it('prints the ssh and tar commands, with the options given, and runs none of them', () => {
    // An ssh that would leave a mark if it ran.
    const bin = mkdtempSync(join(tmpdir(), 'hedgerow-fake-ssh-'));
    const mark = join(bin, 'ran');
    writeFileSync(join(bin, 'ssh'), `#!/bin/sh\ntouch ${mark}\nexit 0\n`, { mode: 0o755 });
    const config = join(bin, 'station.yaml');
    writeFileSync(config, 'station:\n  id: north-field\n');
    const run = spawnSync('bash', ['deploy.sh', 'pi', 'pi@raspberrypi.local', '--port', '2222', '--station-id', 'north-field', '--build', 'weather-hat', '--museum', '--config', config, '--dry-run'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n').filter((line) => line.startsWith('+ '));
    expect(lines[0]).toBe('+ ssh -o BatchMode=yes -o ConnectTimeout=15 -p 2222 pi@raspberrypi.local sudo\\ -n\\ true');
    expect(lines[1]).toMatch(/^\+ tar -C \S+ --exclude=node_modules --exclude=dist --exclude=data --exclude=\.git -czf - \. \| ssh .* -p 2222 pi@raspberrypi\.local mkdir\\ -p\\ \/tmp\/hedgerow-deploy\.XXXXXX\/src/);
    expect(lines[2]).toContain(`cat\\ \\>\\ /tmp/hedgerow-deploy.XXXXXX/hedgerow.yaml < ${config}`);
    expect(lines[3]).toMatch(/sudo\\ bash\\ \/tmp\/hedgerow-deploy\.XXXXXX\/src\/deploy\.sh\\ install\\ --role\\ station\\ /);
    for (const part of ['--station-id\\ north-field', '--build\\ weather-hat', '--museum', '--config\\ /tmp/hedgerow-deploy.XXXXXX/hedgerow.yaml']) expect(lines[3]).toContain(part);
    expect(lines).toHaveLength(4);
    expect(spawnSync('test', ['-e', mark]).status).toBe(1);
  });

  it('refuses bad input before connecting, saying what is allowed', () => {
    const noTarget = deploy('pi');
    expect(noTarget.status).toBe(2);
    expect(noTarget.stderr).toMatch(/say which Pi: \.\/deploy\.sh pi USER@HOST/);
    expect(deploy('pi', 'raspberrypi.local').stderr).toMatch(/USER@HOST \(e\.g\. pi@raspberrypi\.local\)/);
    expect(deploy('pi', 'pi@h', '--port', 'ssh').stderr).toMatch(/--port must be the SSH port number/);
    expect(deploy('pi', 'pi@h', '--station-id', 'a/b').stderr).toMatch(/letters, digits/);
    expect(deploy('pi', 'pi@h', '--build', 'bme680').stderr).toMatch(/--build must be auto, bme280 or weather-hat/);
    expect(deploy('pi', 'pi@h', '--config', '/no/such.yaml').stderr).toMatch(/--config: no file \/no\/such\.yaml/);
    expect(deploy('pi', 'pi@h', '--frobnicate').stderr).toMatch(/unknown option --frobnicate/);
  });

  it('a host that refuses the connection (ssh exit 255) is tried again for HEDGEROW_SSH_WAIT seconds, then named, with what to check', async () => {
    // A port nothing listens on: taken and released, so ssh is refused at once.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const refused = deployWaiting('5', 'pi', 'pi@127.0.0.1', '--port', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null');
    expect(refused.status).toBe(1);
    // A booting Pi refuses for a while: one more try after 5 s, then the reason.
    expect(refused.stdout.match(/no SSH answer from pi@127\.0\.0\.1 yet \(.*Connection refused.*\); trying again in 5 s/g)).toHaveLength(1);
    expect(refused.stderr).toMatch(/cannot reach pi@127\.0\.0\.1 over SSH \(ssh said: .*Connection refused/);
    expect(refused.stderr).toMatch(/the port \(--port\), and your key \(-i KEY; ssh-copy-id pi@127\.0\.0\.1/);
    expect(refused.stdout).not.toMatch(/installing/);
  });

  it('a host that closes the connection says so even with -o LogLevel=ERROR (ssh prints "Connection closed" at INFO)', async () => {
    // Accepts, answers an SSH banner, then hangs up: what an sshd that is restarting or failing does.
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
      socket.once('data', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const closed = await deployWaitingAsync('0', 'pi', 'pi@127.0.0.1', '--port', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR');
      expect(closed.status).toBe(1);
      expect(closed.stderr).toMatch(/cannot reach pi@127\.0\.0\.1 over SSH \(ssh said: [^)]*(Connection closed|Connection reset)/);
      expect(closed.stderr).not.toMatch(/ssh said: nothing/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
