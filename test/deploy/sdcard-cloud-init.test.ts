import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstBootWithHostModules } from './helpers/host-modules.ts';
import { canBootMachines, debianRootWith, MACHINE_TEST_TIMEOUT_MS, Machine } from './helpers/machine.ts';
import { flashedCard, IMAGER_USER_DATA, sdcard } from './sdcard-card.ts';

// A Trixie card prepared by deploy.sh sdcard, read by a real cloud-init (Debian's) from the card bound in
// at /boot/firmware, as Raspberry Pi OS Trixie reads it (NoCloud, seeded from the boot partition): its
// runcmd starts Hedgerow's first boot, under a real systemd.
describe.runIf(canBootMachines())('a Trixie card prepared by deploy.sh sdcard, run by cloud-init', { timeout: MACHINE_TEST_TIMEOUT_MS }, () => {
  let machine: Machine;
  let boot: string;
  beforeAll(async () => {
    boot = flashedCard('trixie', join(mkdtempSync(join(tmpdir(), 'hedgerow-card-')), 'bootfs'));
    // Imager's user-data, less its avahi-daemon package (an apt install this test does not need).
    writeFileSync(join(boot, 'user-data'), IMAGER_USER_DATA.replace(/^packages:\n- avahi-daemon\n/m, ''));
    const prepared = sdcard(boot, '--station-id', 'trixie-1', '--build', 'bme280', '--uplink', 'mqtt://127.0.0.1:1');
    expect(prepared.status, prepared.stderr).toBe(0);
    // The stand-in Pi has no sensors: the station samples virtual ones every 2 s. Its first record comes one
    // interval after start, and install.sh's health check waits for it: at the card's 5 min that wait was
    // most of this file's run. firstboot.sh moves this file to /etc/hedgerow as it is.
    const card = join(boot, 'hedgerow/hedgerow.yaml');
    const config = readFileSync(card, 'utf8');
    expect(config).toMatch(/^ {2}mode: real$/m);
    expect(config).toMatch(/^ {2}interval: 5m$/m);
    writeFileSync(card, config.replace(/^ {2}mode: real$/m, '  mode: virtual').replace(/^ {2}interval: 5m$/m, '  interval: 2s'));
    // The root with cloud-init installed, built once per machine (helpers/debian-root-with.sh): apt-get
    // install in each run's machine took minutes. Its boot-time run is off there until this test turns it on.
    const root = debianRootWith(['cloud-init']);
    // The host's built modules instead of npm ci (helpers/host-modules.ts: pi.test.ts keeps the real one).
    // The host's CA bundle: this host reaches the registries through a TLS-inspecting proxy (see sdcard-machine.test.ts).
    machine = await Machine.boot({ root, bind: [`${boot}:/boot/firmware`], ...firstBootWithHostModules() });
    expect((await machine.exec('cloud-init --version && rm /etc/cloud/cloud-init.disabled')).status).toBe(0);
    // Raspberry Pi OS seeds cloud-init's NoCloud source from the boot partition; so does this.
    await machine.exec("printf 'datasource_list: [ NoCloud, None ]\\ndatasource:\\n  NoCloud:\\n    seedfrom: /boot/firmware/\\n' > /etc/cloud/cloud.cfg.d/99-bootfs.cfg");
  }, 25 * 60_000);
  afterAll(async () => machine?.stop(), 120_000);

  it("cloud-init applies Imager's settings and runs Hedgerow's first boot, which installs the station and never runs again", async () => {
    // 2 is cloud-init's "a module failed": allowed only for the two the minbase stand-in cannot run (it has
    // no console-setup or locales), checked below. The final stage, where runcmd runs, must pass outright.
    for (const stage of ['init --local', 'init', 'modules --mode=config']) {
      const run = await machine.exec(`cloud-init ${stage}`, { timeoutMs: 10 * 60_000 });
      expect([0, 2], `cloud-init ${stage}: ${run.stderr}`).toContain(run.status);
    }
    const final = await machine.exec('cloud-init modules --mode=final', { timeoutMs: 10 * 60_000 });
    expect(final.status, final.stderr).toBe(0);
    const failed = [...(await machine.exec('cloud-init status --long')).stdout.matchAll(/^\('([\w-]+)',/gm)].map((m) => m[1]);
    expect(failed.filter((module) => module !== 'keyboard' && module !== 'locale')).toEqual([]);
    // Imager's user (from the merged user-data) and Hedgerow's secrets, as the service user's.
    expect((await machine.exec('id -nG student')).stdout.split(/\s+/)).toEqual(expect.arrayContaining(['sudo', 'i2c', 'gpio']));
    expect((await machine.exec('stat -c "%a %U" /etc/hedgerow/hedgerow.yaml')).stdout.trim()).toBe('600 hedgerow');
    // runcmd's --now queued hedgerow-firstboot.service; wait for it to finish (apt, the release, the health check).
    const wait = await machine.exec(
      'until [ -f /etc/hedgerow/firstboot.done ] || [ "$(systemctl show -P ActiveState hedgerow-firstboot.service)" = failed ]; do sleep 2; done; ' +
        'while [ "$(systemctl show -P ActiveState hedgerow-firstboot.service)" = activating ]; do sleep 1; done; systemctl show -P Result hedgerow-firstboot.service',
      { timeoutMs: 30 * 60_000 },
    );
    const log = readFileSync(join(boot, 'hedgerow-firstboot.log'), 'utf8');
    expect(wait.stdout.trim(), log.slice(-3000)).toBe('success');
    expect(log).toMatch(/hedgerow-firstboot.service installs Hedgerow now/);
    expect(log).toMatch(/done: station trixie-1 is running/);
    expect((await machine.exec('test -f /etc/hedgerow/firstboot.done')).status).toBe(0);
    expect((await machine.exec('systemctl is-enabled hedgerow-station.service')).stdout.trim()).toBe('enabled');
    // cloud-init runs runcmd once per instance: a second pass, as at the next boot, does not run it again.
    await machine.exec('cloud-init modules --mode=final', { timeoutMs: 5 * 60_000 });
    expect(readFileSync(join(boot, 'hedgerow-firstboot.log'), 'utf8').match(/first boot of station/g)).toHaveLength(1);
  }, 40 * 60_000);
});
