import { spawnSync } from 'node:child_process';
import { existsSync, readlinkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSettings } from '../../bin/hedgerow-settings.ts';
import { verifyPassword } from '../../gateway/broker-users.ts';
import { flashedCard, modeOf, sdcard } from './sdcard-card.ts';

/** A folder standing in for the Pi's root file system, with the prepared card at /boot/firmware, as install.test.ts does. */
function piRoot(layout: 'trixie' | 'bookworm') {
  const root = mkdtempSync(join(tmpdir(), 'hedgerow-pi-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/hostname'), 'raspberrypi\n');
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n');
  const boot = flashedCard(layout, join(root, 'boot/firmware'));
  return { root, boot };
}

function firstboot(root: string, ...args: string[]) {
  return spawnSync('bash', [join(root, 'boot/firmware/hedgerow/firstboot.sh'), ...args], {
    env: { ...process.env, HEDGEROW_ROOT: root },
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
}

const worldOrGroupReadable = (path: string) => (modeOf(path) & 0o077) !== 0;

describe("the first boot (firstboot.sh) on a stand-in Pi's root", () => {
  it('moves the station config off the card to /etc/hedgerow (0600), installs Hedgerow with it, and never runs twice', () => {
    const { root, boot } = piRoot('trixie');
    const prepared = sdcard(boot, '--station-id', 'north-field', '--build', 'bme280', '--uplink', 'mqtts://broker.school.example:8883');
    expect(prepared.status).toBe(0);
    const password = /^ {4}north-field:(\S+)$/m.exec(prepared.stdout)![1]!;

    const early = firstboot(root, '--now');
    expect(early.status).toBe(0);
    const config = join(root, 'etc/hedgerow/hedgerow.yaml');
    expect(modeOf(config)).toBe(0o600);
    expect(modeOf(join(root, 'etc/hedgerow'))).toBe(0o750);
    expect(existsSync(join(boot, 'hedgerow/hedgerow.yaml'))).toBe(false);
    expect(readFileSync(join(root, 'etc/systemd/system/hedgerow-firstboot.service'), 'utf8')).toMatch(/ExecStart=\/bin\/bash \/boot\/firmware\/hedgerow\/firstboot.sh --install/);
    // install.sh's hardening drop-in would stop the installer writing /etc: masked for this unit only.
    expect(readlinkSync(join(root, 'etc/systemd/system/hedgerow-firstboot.service.d/hardening.conf'))).toBe('/dev/null');

    const install = firstboot(root, '--install');
    expect(install.status).toBe(0);
    // install.sh kept the config the card brought, and it is one the station accepts, with its own login.
    const settings = loadSettings(config);
    expect(settings.station.id).toBe('north-field');
    expect(settings.uplink).toMatchObject({ url: 'mqtts://broker.school.example:8883', username: 'north-field', password });
    expect(modeOf(config)).toBe(0o600);
    expect(readFileSync(join(root, 'opt/hedgerow/current/package.json'), 'utf8')).toMatch(/"name": "hedgerow"/);
    expect(readFileSync(join(root, 'etc/systemd/system/hedgerow-station.service'), 'utf8')).toMatch(/--config \/etc\/hedgerow\/hedgerow.yaml station/);
    expect(existsSync(join(boot, 'hedgerow/src'))).toBe(false);

    const log = readFileSync(join(boot, 'hedgerow-firstboot.log'), 'utf8');
    expect(log).toMatch(/moved hedgerow.yaml to \/etc\/hedgerow\/hedgerow.yaml \(mode 0600\)/);
    expect(log).toMatch(/done: station north-field is running/);
    expect(log).not.toContain(password);

    writeFileSync(join(root, 'etc/hedgerow/hedgerow.yaml'), 'station:\n  id: edited-on-the-pi\n');
    expect(firstboot(root, '--install').status).toBe(0);
    expect(firstboot(root, '--now').status).toBe(0);
    expect(readFileSync(join(root, 'etc/hedgerow/hedgerow.yaml'), 'utf8')).toBe('station:\n  id: edited-on-the-pi\n');
    expect(readFileSync(join(boot, 'hedgerow-firstboot.log'), 'utf8').match(/already done/g)).toHaveLength(2);
  });

  it("prints the operator's broker.users line, whose hash the embedded broker accepts for the station's password", async () => {
    const boot = flashedCard('trixie');
    const run = sdcard(boot, '--station-id', 'hilltop', '--uplink', 'mqtt://engine.local:1883');
    const password = /^ {4}hilltop:(\S+)$/m.exec(run.stdout)![1]!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const hash = /^ {4}hilltop: "(scrypt\$[^"]+)"$/m.exec(run.stdout)![1]!;
    expect(await verifyPassword(password, hash)).toBe(true);
    expect(parse(readFileSync(join(boot, 'hedgerow/hedgerow.yaml'), 'utf8')).uplink).toEqual({ url: 'mqtt://engine.local:1883', username: 'hilltop', password });
    // Each station gets its own.
    const other = sdcard(flashedCard('trixie'), '--station-id', 'hilltop', '--uplink', 'mqtt://engine.local:1883');
    expect(/^ {4}hilltop:(\S+)$/m.exec(other.stdout)![1]).not.toBe(password);
  });

  it('on Bookworm: the certificates and the Wi-Fi key go to 0600 files, the hostname is set, and firstrun.sh takes itself out of cmdline.txt', () => {
    const { root, boot } = piRoot('bookworm');
    const cmdline = readFileSync(join(boot, 'cmdline.txt'), 'utf8');
    const aws = mkdtempSync(join(tmpdir(), 'hedgerow-thing-'));
    const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=north-field', '-keyout', join(aws, 'key.pem'), '-out', join(aws, 'cert.pem')], { encoding: 'utf8', timeout: 60_000 });
    expect(openssl.status, openssl.stderr).toBe(0);
    writeFileSync(join(aws, 'ca.pem'), readFileSync(join(aws, 'cert.pem')));
    writeFileSync(join(aws, 'uplink.yaml'), 'uplink:\n  url: mqtts://a1b2c3-ats.iot.eu-west-2.amazonaws.com:8883\n  clientId: north-field\n  profile: iot-core\n  tls:\n    cert: ./cert.pem\n');
    const pass = join(aws, 'wifi-pass');
    writeFileSync(pass, 'correct horse battery\n');
    const prepared = sdcard(boot, '--station-id', 'north-field', '--aws-thing-dir', aws, '--wifi', "Farm's Net", '--wifi-pass-file', pass, '--wifi-country', 'GB');
    expect(prepared.status).toBe(0);
    expect(readFileSync(join(boot, 'cmdline.txt'), 'utf8')).toMatch(/systemd\.run=\/boot\/firmware\/firstrun\.sh/);

    // firstrun.sh, as systemd.run starts it; with HEDGEROW_ROOT its firstboot.sh works inside the stand-in root.
    const firstrun = spawnSync('bash', [join(boot, 'firstrun.sh')], { env: { ...process.env, HEDGEROW_ROOT: root }, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
    expect(firstrun.status).toBe(0);
    expect(readFileSync(join(boot, 'cmdline.txt'), 'utf8')).toBe(cmdline);
    expect(existsSync(join(boot, 'firstrun.sh'))).toBe(false);

    for (const pem of ['cert.pem', 'key.pem', 'ca.pem']) {
      expect(modeOf(join(root, 'etc/hedgerow/aws', pem)), pem).toBe(0o600);
      expect(existsSync(join(boot, 'hedgerow/aws', pem))).toBe(false);
    }
    expect(readFileSync(join(root, 'etc/hedgerow/aws/key.pem'))).toEqual(readFileSync(join(aws, 'key.pem')));
    const connection = join(root, 'etc/NetworkManager/system-connections/hedgerow-wifi.nmconnection');
    expect(worldOrGroupReadable(connection)).toBe(false);
    expect(readFileSync(connection, 'utf8')).toMatch(/^ssid=Farm's Net$\n[\s\S]*^psk=[0-9a-f]{64}$/m);
    expect(existsSync(join(boot, 'hedgerow/wifi.env'))).toBe(false);
    expect(readFileSync(join(root, 'etc/hostname'), 'utf8')).toBe('north-field\n');
    expect(readFileSync(join(root, 'etc/hosts'), 'utf8')).toMatch(/^127\.0\.1\.1\tnorth-field$/m);

    // The config points at the files where firstboot.sh put them; with those paths under the stand-in root it parses.
    const config = parse(readFileSync(join(root, 'etc/hedgerow/hedgerow.yaml'), 'utf8'));
    expect(config.uplink.tls).toEqual({ cert: '/etc/hedgerow/aws/cert.pem', key: '/etc/hedgerow/aws/key.pem', ca: '/etc/hedgerow/aws/ca.pem' });
    const staged = join(root, 'staged.yaml');
    const tls = Object.fromEntries(Object.entries(config.uplink.tls as Record<string, string>).map(([key, path]) => [key, join(root, path)]));
    writeFileSync(staged, JSON.stringify({ ...config, uplink: { ...config.uplink, tls } }));
    expect(loadSettings(staged).uplink).toMatchObject({ profile: 'iot-core', clientId: 'north-field', url: 'mqtts://a1b2c3-ats.iot.eu-west-2.amazonaws.com:8883' });
    expect(readFileSync(join(boot, 'hedgerow-firstboot.log'), 'utf8')).not.toMatch(/correct horse|BEGIN/);
  });

  it('a failed install is logged with what to do, and runs again on the next boot', () => {
    const { root, boot } = piRoot('trixie');
    expect(sdcard(boot, '--station-id', 's1').status).toBe(0);
    expect(firstboot(root, '--now').status).toBe(0);
    rmSync(join(boot, 'config.txt')); // install.sh then finds no config.txt
    expect(firstboot(root, '--install').status).not.toBe(0);
    expect(readFileSync(join(boot, 'hedgerow-firstboot.log'), 'utf8')).toMatch(/FAILED at line \d+ \(exit 1\): see the lines above; fix it and reboot, and this step runs again/);
    expect(existsSync(join(root, 'etc/hedgerow/firstboot.done'))).toBe(false);
    expect(existsSync(join(boot, 'hedgerow/src'))).toBe(true);
  });
});
