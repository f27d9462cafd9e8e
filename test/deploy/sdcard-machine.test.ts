import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto, freePort } from '../gateway/helpers/mosquitto.ts';
import { Collector } from '../gateway/helpers/subscriber.ts';
import { firstBootWithHostModules } from './helpers/host-modules.ts';
import { canBootMachines, MACHINE_TEST_TIMEOUT_MS, Machine } from './helpers/machine.ts';
import { flashedCard, sdcard } from './sdcard-card.ts';

// A Bookworm card prepared on the "laptop" (this host), bound into the stand-in Pi as its /boot/firmware,
// and its first boot run there under a real systemd: firstrun.sh as systemd.run would start it, then
// hedgerow-firstboot.service (the real install.sh: apt, useradd, systemctl; the host's modules for npm ci), then the station,
// logging in to a mosquitto on the host with the login deploy.sh sdcard made for it.
const ENGINE_PASSWORD = 'engine-test-password';

describe.runIf(canBootMachines())('a card prepared by deploy.sh sdcard, first-booted under systemd', { timeout: MACHINE_TEST_TIMEOUT_MS }, () => {
  let machine: Machine;
  let broker: Mosquitto;
  let boot: string;
  let stdout: string;
  beforeAll(async () => {
    const port = await freePort();
    boot = flashedCard('bookworm', join(mkdtempSync(join(tmpdir(), 'hedgerow-card-')), 'bootfs'));
    const prepared = sdcard(boot, '--station-id', 'machine-1', '--build', 'bme280', '--uplink', `mqtt://127.0.0.1:${port}`);
    expect(prepared.status, prepared.stderr).toBe(0);
    stdout = prepared.stdout;
    // The engine's operator's step: the printed id:password line into mosquitto's password file and ACL.
    const login = /^ {4}(machine-1:\S+)$/m.exec(stdout)![1]!;
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-mosq-'));
    const files = spawnSync(process.execPath, ['bin/hedgerow.js', 'broker', 'mosquitto-files', '--dir', dir, '--engine-user', 'engine'], {
      input: `${login}\nengine:${ENGINE_PASSWORD}\n`,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(files.status, files.stderr).toBe(0);
    broker = await Mosquitto.start({ port, files: { passwordFile: join(dir, 'passwd'), aclFile: join(dir, 'acl') } });
    // This host reaches npm's registry through a TLS-inspecting proxy whose CA only the host's bundle has:
    // the stand-in Pi trusts what the host trusts (a Pi on a school network needs nothing of the sort).
    // The host's built modules instead of npm ci (helpers/host-modules.ts: pi.test.ts keeps the real one).
    machine = await Machine.boot({ bind: [`${boot}:/boot/firmware`], ...firstBootWithHostModules() });
  }, 25 * 60_000);
  afterAll(async () => {
    await machine?.stop();
    await broker?.stop();
  }, 120_000);

  it('firstrun.sh moves the secrets to /etc/hedgerow as the service user\'s, enables the install, and leaves cmdline.txt as Imager had it', async () => {
    const cmdline = readFileSync(join(boot, 'cmdline.txt'), 'utf8');
    expect(cmdline).toMatch(/ systemd\.run=\/boot\/firmware\/firstrun\.sh systemd\.run_success_action=reboot systemd\.unit=kernel-command-line\.target\n$/);
    const firstrun = await machine.exec('bash /boot/firmware/firstrun.sh', { timeoutMs: 120_000 });
    expect(firstrun.status, firstrun.stderr).toBe(0);
    expect((await machine.exec('stat -c "%a %U" /etc/hedgerow/hedgerow.yaml')).stdout.trim()).toBe('600 hedgerow');
    expect((await machine.exec('id -nG hedgerow')).stdout.split(/\s+/)).toEqual(expect.arrayContaining(['i2c', 'gpio', 'audio']));
    expect((await machine.exec('systemctl is-enabled hedgerow-firstboot.service')).stdout.trim()).toBe('enabled');
    expect((await machine.exec('cat /etc/hostname')).stdout.trim()).toBe('machine-1');
    expect(readFileSync(join(boot, 'cmdline.txt'), 'utf8')).toBe(cmdline.replace(/ systemd\.run.*/, ''));
    expect((await machine.exec('test -e /boot/firmware/hedgerow/hedgerow.yaml')).status).toBe(1);
  }, 180_000);

  it('hedgerow-firstboot.service installs Hedgerow, starts the station, which sends as itself, and then never runs again', async () => {
    // The stand-in Pi has no sensors: the station samples virtual ones, every 2 s rather than 5 min.
    await machine.exec("sed -i 's/mode: real/mode: virtual/; s/interval: 5m/interval: 2s/' /etc/hedgerow/hedgerow.yaml");
    // The native modules build against the host's Node headers, bound in at /usr/include/node: node-gyp
    // would otherwise fetch them from nodejs.org, which this host's proxy breaks (a Pi fetches them).
    const collector = await Collector.start(broker.url, 'dt/weather/machine-1/reading', { username: 'engine', password: ENGINE_PASSWORD });
    try {
      const install = await machine.exec('systemctl start hedgerow-firstboot.service', { timeoutMs: 30 * 60_000 });
      const log = readFileSync(join(boot, 'hedgerow-firstboot.log'), 'utf8');
      expect(install.status, `${install.stderr}\n${log.slice(-3000)}`).toBe(0);
      expect(log).toMatch(/done: station machine-1 is running/);
      expect(log).not.toContain(/^ {4}machine-1:(\S+)$/m.exec(stdout)![1]!);
      expect((await machine.exec('systemctl is-enabled hedgerow-station.service')).stdout.trim()).toBe('enabled');
      expect((await machine.exec('systemctl is-enabled hedgerow-firstboot.service')).stdout.trim()).toBe('disabled');
      await collector.until(() => collector.records().length >= 1, 120_000);
      expect(collector.records()[0]).toMatchObject({ ambient_temperature: expect.any(Number) });
      expect((await machine.exec('ps -o user= -C node')).stdout).toMatch(/^hedgerow/m);
      // The README's check, as the student types it on the Pi.
      const status = await machine.exec('cd /tmp && sudo -u hedgerow hedgerow status', { timeoutMs: 120_000 });
      expect(status.status, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/sent [1-9]\d* records/);
    } finally {
      await collector.stop();
    }
    // A second start (a reboot) finds firstboot.done: systemd skips it by its condition.
    await machine.exec('systemctl start hedgerow-firstboot.service');
    expect((await machine.exec('systemctl show -P ConditionResult hedgerow-firstboot.service')).stdout.trim()).toBe('no');
  }, 35 * 60_000);
});
