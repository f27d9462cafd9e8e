import { spawnSync } from 'node:child_process';
import { pbkdf2Sync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSections, flashedCard, IMAGER_FIRSTRUN, IMAGER_USER_DATA, sdcard, snapshot } from './sdcard-card.ts';

const PASSPHRASE = 'correct horse battery';
function passFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hedgerow-wifi-')), 'wifi-pass');
  writeFileSync(file, `${PASSPHRASE}\n`, { mode: 0o600 });
  return file;
}
const wifi = () => ['--wifi', 'Farm Net', '--wifi-pass-file', passFile(), '--wifi-country', 'gb'];
const STATION_LINES = ['dtparam=i2c_arm=on', 'dtoverlay=w1-gpio,gpiopin=4', 'gpio=5,6=ip,pu', 'dtoverlay=i2c-rtc,pcf8523'];

function cloudInitSchema(file: string) {
  return spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
}

describe('deploy.sh sdcard on a Trixie card (cloud-init)', () => {
  it("merges Imager's user-data: its keys stay, Hedgerow's first-boot step is added, and cloud-init's schema accepts it", () => {
    const boot = flashedCard('trixie');
    const run = sdcard(boot, '--station-id', 'north-field', '--build', 'weather-hat', ...wifi());
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/trixie layout \(cloud-init\)/);
    const userData = readFileSync(join(boot, 'user-data'), 'utf8');
    expect(userData.split('\n')[0]).toBe('#cloud-config');
    const config = parse(userData);
    const imager = parse(IMAGER_USER_DATA);
    // Imager's own choices (its hostname too) are kept as they were.
    for (const key of Object.keys(imager)) expect(config[key]).toEqual(imager[key]);
    expect(config.runcmd).toEqual([['bash', '/boot/firmware/hedgerow/firstboot.sh', '--now']]);
    const schema = cloudInitSchema(join(boot, 'user-data'));
    expect(schema.stdout + schema.stderr).toMatch(/Valid cloud-config/);
    expect(schema.status).toBe(0);
  });

  it('adds the Wi-Fi network to network-config v2 with the hashed key, never the passphrase', () => {
    const boot = flashedCard('trixie');
    const run = sdcard(boot, '--station-id', 'north-field', ...wifi());
    expect(run.status).toBe(0);
    const network = parse(readFileSync(join(boot, 'network-config'), 'utf8')).network;
    expect(network.version).toBe(2);
    expect(network.ethernets.eth0).toEqual({ dhcp4: true, dhcp6: true, optional: true });
    expect(network.wifis.wlan0['regulatory-domain']).toBe('GB');
    // WPA's PSK: PBKDF2-SHA1 of the passphrase, the SSID as salt, 4096 rounds (what Imager writes too).
    const psk = pbkdf2Sync(PASSPHRASE, 'Farm Net', 4096, 32, 'sha1').toString('hex');
    expect(network.wifis.wlan0['access-points']['Farm Net']).toEqual({ password: psk });
    expect(run.stdout + run.stderr).not.toContain(PASSPHRASE);
    expect(run.stdout + run.stderr).not.toContain(psk);
    // (hedgerow/src is this checkout, whose tests hold the passphrase.)
    for (const [path, content] of snapshot(boot)) if (!path.startsWith('hedgerow/src/')) expect(content, path).not.toContain(PASSPHRASE);
  });

  it("puts the station's config.txt lines once each under [all], keeping the user's lines and filters", () => {
    const boot = flashedCard('trixie');
    writeFileSync(join(boot, 'config.txt'), `${readFileSync(join(boot, 'config.txt'), 'utf8')}dtparam=i2c_arm=on\n[cm4]\ngpio=5,6=ip,pu\n`);
    expect(sdcard(boot, '--station-id', 's1', '--build', 'weather-hat').status).toBe(0);
    const text = readFileSync(join(boot, 'config.txt'), 'utf8');
    const sections = configSections(text);
    for (const line of STATION_LINES) expect(sections.get('[all]')!.filter((l) => l === line), line).toHaveLength(1);
    // The pull-ups the user had under [cm4] stay there; [all] gets its own.
    expect(sections.get('[cm4]')).toEqual(['otg_mode=1', 'gpio=5,6=ip,pu']);
    expect(sections.get('[cm5]')).toEqual(['dtoverlay=dwc2,dr_mode=host']);
    expect(text.endsWith('[cm4]\ngpio=5,6=ip,pu\n[all]\ndtoverlay=w1-gpio,gpiopin=4\ngpio=5,6=ip,pu\ndtoverlay=i2c-rtc,pcf8523\n')).toBe(true);
  });

  it('changes nothing on a second run, and says so', () => {
    const boot = flashedCard('trixie');
    const args = ['--station-id', 'north-field', '--build', 'bme280', '--uplink', 'mqtts://broker.school.example:8883', ...wifi()];
    expect(sdcard(boot, ...args).status).toBe(0);
    const before = snapshot(boot);
    const again = sdcard(boot, ...args);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/nothing to change: the card is already prepared for north-field/);
    expect(again.stdout).not.toMatch(/wrote|password, made now/);
    expect(snapshot(boot)).toEqual(before);
  });

  it('copies the code git would commit: what the tests or a build leave in the checkout stays off the card, and changes nothing', () => {
    const boot = flashedCard('trixie');
    expect(sdcard(boot, '--station-id', 's1').status).toBe(0);
    // An ignored file (test/artifacts/, *.log), as the e2e tests leave one, written between two runs.
    mkdirSync('test/artifacts', { recursive: true });
    const junk = join('test/artifacts', `sdcard-test-${process.pid}.log`);
    writeFileSync(junk, 'test output\n');
    try {
      expect(sdcard(boot, '--station-id', 's1').stdout).toMatch(/nothing to change/);
    } finally {
      rmSync(junk);
    }
    const files = [...snapshot(join(boot, 'hedgerow/src')).keys()];
    expect(files).toContain('deploy/install.sh');
    expect(files.filter((file) => /^(node_modules|dist|data|test\/artifacts)(\/|$)/.test(file))).toEqual([]);
  });

  it("refuses a user's own user-data that is not #cloud-config, and leaves the card as it was", () => {
    const boot = flashedCard('trixie');
    writeFileSync(join(boot, 'user-data'), '#!/bin/bash\necho my own first boot\n');
    const before = snapshot(boot);
    const run = sdcard(boot, '--station-id', 's1');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/user-data starts with '#!\/bin\/bash', not '#cloud-config'.*will not replace yours/);
    expect(run.stderr).toMatch(/firstboot\.sh/);
    expect(snapshot(boot)).toEqual(before);
  });

  it("merges a user's own cloud-config: their runcmd steps and comments stay, Hedgerow's runs after them", () => {
    const boot = flashedCard('trixie');
    writeFileSync(join(boot, 'user-data'), '#cloud-config\n# my school setup\nhostname: lab-7\nruncmd:\n  - [ touch, /root/mine ]\n');
    expect(sdcard(boot, '--station-id', 's1').status).toBe(0);
    const text = readFileSync(join(boot, 'user-data'), 'utf8');
    expect(text).toContain('# my school setup');
    const config = parse(text);
    expect(config.hostname).toBe('lab-7');
    expect(config.enable_ssh).toBe(true);
    expect(config.runcmd).toEqual([['touch', '/root/mine'], ['bash', '/boot/firmware/hedgerow/firstboot.sh', '--now']]);
    expect(cloudInitSchema(join(boot, 'user-data')).status).toBe(0);
  });

  it('takes an empty runcmd: as none', () => {
    const boot = flashedCard('trixie');
    writeFileSync(join(boot, 'user-data'), '#cloud-config\nruncmd:\n');
    expect(sdcard(boot, '--station-id', 's1').status).toBe(0);
    expect(parse(readFileSync(join(boot, 'user-data'), 'utf8')).runcmd).toEqual([['bash', '/boot/firmware/hedgerow/firstboot.sh', '--now']]);
  });

  it('sets the hostname to the station id when Imager set none', () => {
    const boot = flashedCard('trixie');
    writeFileSync(join(boot, 'user-data'), '');
    expect(sdcard(boot, '--station-id', 'hilltop').status).toBe(0);
    expect(parse(readFileSync(join(boot, 'user-data'), 'utf8'))).toMatchObject({ hostname: 'hilltop', manage_etc_hosts: true, enable_ssh: true });
  });
});

describe('deploy.sh sdcard on a Bookworm card (firstrun.sh)', () => {
  it("keeps Imager's firstrun.sh, which runs first, and its one systemd.run hook in cmdline.txt", () => {
    const boot = flashedCard('bookworm-imager');
    const cmdline = readFileSync(join(boot, 'cmdline.txt'), 'utf8');
    const run = sdcard(boot, '--station-id', 'north-field', ...wifi());
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/bookworm layout \(firstrun\.sh\)/);
    expect(readFileSync(join(boot, 'cmdline.txt'), 'utf8')).toBe(cmdline);
    expect(readFileSync(join(boot, 'hedgerow/imager-firstrun.sh'), 'utf8')).toBe(IMAGER_FIRSTRUN);
    const ours = readFileSync(join(boot, 'firstrun.sh'), 'utf8');
    expect(ours.indexOf('bash "$boot/hedgerow/imager-firstrun.sh"')).toBeGreaterThan(0);
    expect(ours.indexOf('bash "$boot/hedgerow/imager-firstrun.sh"')).toBeLessThan(ours.indexOf('bash "$boot/hedgerow/firstboot.sh"'));
    // Imager's script sets the hostname: Hedgerow's leaves it.
    expect(readFileSync(join(boot, 'hedgerow/station.env'), 'utf8')).not.toMatch(/HOSTNAME/);
    expect(readFileSync(join(boot, 'hedgerow/wifi.env'), 'utf8')).toMatch(/^WIFI_PSK=[0-9a-f]{64}$/m);
    const again = sdcard(boot, '--station-id', 'north-field', ...wifi());
    expect(again.stdout).toMatch(/nothing to change/);
    expect(readFileSync(join(boot, 'hedgerow/imager-firstrun.sh'), 'utf8')).toBe(IMAGER_FIRSTRUN);
  });

  it('adds the firstrun.sh hook to a bare cmdline.txt, as Imager writes it, once', () => {
    const boot = flashedCard('bookworm');
    expect(sdcard(boot, '--station-id', 'north-field').status).toBe(0);
    const cmdline = readFileSync(join(boot, 'cmdline.txt'), 'utf8');
    expect(cmdline.split('\n')).toHaveLength(2); // one line, and its newline
    expect(cmdline).toMatch(/ rootwait quiet .* systemd\.run=\/boot\/firmware\/firstrun\.sh systemd\.run_success_action=reboot systemd\.unit=kernel-command-line\.target\n$/);
    expect(readFileSync(join(boot, 'hedgerow/station.env'), 'utf8')).toMatch(/^HOSTNAME=north-field$/m);
    expect(sdcard(boot, '--station-id', 'north-field').stdout).toMatch(/nothing to change/);
    expect(readFileSync(join(boot, 'cmdline.txt'), 'utf8').match(/systemd\.run=/g)).toHaveLength(1);
  });

  it('refuses a cmdline.txt that already runs some other first-boot script', () => {
    const boot = flashedCard('bookworm');
    writeFileSync(join(boot, 'cmdline.txt'), 'console=tty1 rootwait systemd.run=/boot/firmware/school-setup.sh\n');
    const before = snapshot(boot);
    const run = sdcard(boot, '--station-id', 's1');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/already runs \/boot\/firmware\/school-setup\.sh at first boot/);
    expect(snapshot(boot)).toEqual(before);
  });
});

describe('deploy.sh sdcard: what it refuses and what --dry-run shows', () => {
  it('refuses a folder that is no Raspberry Pi OS boot partition, naming what it looked for', () => {
    const empty = mkdtempSync(join(tmpdir(), 'hedgerow-notboot-'));
    writeFileSync(join(empty, 'config.txt'), '');
    const run = sdcard(empty, '--station-id', 's1');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/neither cloud-init's files \(user-data, meta-data, network-config: Trixie\) nor cmdline.txt \(Bookworm\)/);
    expect(sdcard(mkdtempSync(join(tmpdir(), 'hedgerow-notboot-')), '--station-id', 's1').stderr).toMatch(/no config.txt/);
  });

  it('refuses bad options with what to give instead', () => {
    const boot = flashedCard('trixie');
    expect(sdcard(boot).stderr).toMatch(/--station-id is needed/);
    expect(sdcard(boot, '--station-id').stderr).toMatch(/--station-id needs a value/);
    expect(sdcard(boot, '--station-id', 'a b').stderr).toMatch(/letters, digits/);
    expect(sdcard(boot, '--station-id', 's1', '--wifi', 'Net').stderr).toMatch(/Wi-Fi needs all three/);
    expect(sdcard(boot, '--station-id', 's1', '--uplink', 'mqtt://h', '--aws-thing-dir', boot).stderr).toMatch(/not both/);
    const http = sdcard(boot, '--station-id', 's1', '--uplink', 'http://broker');
    expect(http.status).toBe(1);
    expect(http.stderr).toMatch(/--uplink must be mqtt:\/\/HOST\[:PORT\] or mqtts:\/\/HOST\[:PORT\]/);
    const short = join(mkdtempSync(join(tmpdir(), 'hedgerow-wifi-')), 'pass');
    writeFileSync(short, 'abc\n');
    const weak = sdcard(boot, '--station-id', 's1', '--wifi', 'Net', '--wifi-pass-file', short, '--wifi-country', 'GB');
    expect(weak.stderr).toMatch(/must be 8 to 63 printable characters/);
    expect(weak.stderr).not.toContain('abc');
  });

  it('--dry-run prints each action and changes nothing, and shows no secret', () => {
    const boot = flashedCard('trixie');
    const before = snapshot(boot);
    const run = sdcard(boot, '--station-id', 'north-field', '--uplink', 'mqtt://broker:1883', '--dry-run', ...wifi());
    expect(run.status).toBe(0);
    expect(snapshot(boot)).toEqual(before);
    expect(run.stdout).toMatch(/\+ write .*\/config\.txt \(mode 0644\):\n\| {3}# For more options/);
    expect(run.stdout).toMatch(/\+ write .*\/hedgerow\/hedgerow\.yaml \(mode 0600\): the station config with its broker password, not shown/);
    expect(run.stdout).toMatch(/\+ write .*\/network-config \(mode 0644\): the network config with the Wi-Fi key, not shown/);
    expect(run.stdout).toMatch(/\+ tar -C .*hedgerow\/src -xf/);
    expect(run.stdout).not.toMatch(/password, made now/);
    expect(run.stdout).toMatch(/dry run: \d+ changes above, none made/);
    expect(existsSync(join(boot, 'hedgerow'))).toBe(false);
  });

  it('prints its help from its header', () => {
    const help = sdcard('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^deploy\.sh sdcard: on your laptop/);
    expect(help.stdout).toMatch(/--wifi SSID --wifi-pass-file FILE --wifi-country CC/);
  });
});

describe('deploy.sh sdcard through a real FAT file system (mkfs.vfat, mtools)', () => {
  it('a prepared card round-trips through FAT unchanged, and a second run on it changes nothing', { timeout: 120_000 }, () => {
    const boot = flashedCard('trixie');
    const args = ['--station-id', 'north-field', '--build', 'weather-hat', '--uplink', 'mqtts://broker.school.example:8883', ...wifi()];
    expect(sdcard(boot, ...args).status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-fat-'));
    const image = join(dir, 'bootfs.img');
    const sh = (cmd: string, ...a: string[]) => {
      const r = spawnSync(cmd, a, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
      expect(r.status, `${cmd} ${a.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    sh('mkfs.vfat', '-C', '-n', 'BOOTFS', '-F', '32', image, String(128 * 1024));
    sh('bash', '-c', 'cd "$1" && mcopy -s -i "$2" ./* ::/', '_', boot, image);
    const back = join(dir, 'back');
    mkdirSync(back);
    sh('bash', '-c', 'mcopy -s -n -i "$1" "::/*" "$2"/', '_', image, back);
    expect(snapshot(back)).toEqual(snapshot(boot));
    const again = sdcard(back, ...args);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/nothing to change/);
  });
});
