import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canBootMachines, MACHINE_TEST_TIMEOUT_MS, debianRoot, Machine } from './helpers/machine.ts';

// The stand-in Pi itself: if this fails, every deploy test under systemd fails for the same reason.
describe.runIf(canBootMachines())('the stand-in Pi (debootstrapped Debian under systemd-nspawn)', { timeout: MACHINE_TEST_TIMEOUT_MS }, () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await Machine.boot();
  }, 25 * 60_000);
  afterAll(async () => machine?.stop(), 90_000);

  it('boots a real systemd as PID 1, with Node 20+ and sshd on its own port', async () => {
    expect((await machine.exec('cat /proc/1/comm')).stdout.trim()).toBe('systemd');
    const node = (await machine.exec('node --version')).stdout.trim();
    expect(Number(/^v(\d+)\./.exec(node)?.[1])).toBeGreaterThanOrEqual(20);
    expect((await machine.exec('npm --version')).status).toBe(0);
    expect((await machine.exec('systemctl is-active ssh')).stdout.trim()).toBe('active');
    const listening = (await machine.exec('ss -ltn')).stdout;
    expect(listening).toContain(`127.0.0.1:${machine.sshPort}`);
    expect((await machine.exec('id -nG pi')).stdout.split(/\s+/)).toEqual(expect.arrayContaining(['sudo', 'i2c', 'gpio', 'audio']));
  });

  it('forgets its changes: the cached root is never written', async () => {
    await machine.exec('touch /etc/hedgerow-was-here');
    expect((await machine.exec('test -e /etc/hedgerow-was-here')).status).toBe(0);
    expect(existsSync(join(debianRoot(), 'etc/hedgerow-was-here'))).toBe(false);
  });
});
