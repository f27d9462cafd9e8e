// `hedgerow doctor` from the real CLI, in a child process with a hard kill timer, against a fake Pi
// (HEDGEROW_ROOT: /boot/firmware, /dev, /sys/bus/w1, /etc/passwd and /etc/group in a temp folder) and a
// real mosquitto.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorReport, type CheckResult, type DoctorReport } from '../../bin/doctor/report.ts';
import { Outbox } from '../../gateway/outbox.ts';
import { makeTestPki } from '../gateway/helpers/certs.ts';
import { freePort, Mosquitto } from '../gateway/helpers/mosquitto.ts';

const REPO = join(import.meta.dirname, '../..');
const CLI = join(REPO, 'bin/hedgerow.js');
const RUN_TIMEOUT_MS = 60_000;
/** A test runs the CLI up to four times. */
const TEST_TIMEOUT_MS = 5 * RUN_TIMEOUT_MS;
const AS_ROOT = process.getuid?.() === 0;
/** The fake service user: not root (root may open anything, which would make the access checks pass blindly). */
const SERVICE_UID = AS_ROOT ? 1999 : process.getuid!();
const SERVICE_GID = AS_ROOT ? 1999 : process.getgid!();
const I2C_GID = AS_ROOT ? 998 : SERVICE_GID;
const BROKER_USER = 'bench-1';
const BROKER_PASSWORD = 'right-horse-battery';

function hedgerow(args: string[], root: string) {
  // spawnSync's timeout kills with SIGKILL: it fires even if the child's event loop is blocked.
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', env: { ...process.env, HEDGEROW_ROOT: root } });
}

function doctorJson(args: string[], root: string): { status: number | null; report: DoctorReport; stdout: string } {
  const out = hedgerow([...args, 'doctor', '--json'], root);
  return { status: out.status, report: doctorReport.parse(JSON.parse(out.stdout)), stdout: out.stdout };
}

function check(report: DoctorReport, id: string): CheckResult {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

/** Gives a path to the fake service user, as deploy/install.sh's chown would. */
function own(path: string, gid = SERVICE_GID): void {
  if (AS_ROOT) chownSync(path, SERVICE_UID, gid);
}

interface FakePi {
  dir: string;
  root: string;
  configTxt: string;
  writeConfig(yaml: string): string;
}

/** A fake Pi: config.txt as given, /dev/i2c-1 for group i2c, a DS18B20 in /sys/bus/w1, user hedgerow in its groups, a synced clock. */
function fakePi(configTxt: string): FakePi {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-doctor-'));
  const root = join(dir, 'root');
  mkdirSync(join(root, 'boot/firmware'), { recursive: true });
  writeFileSync(join(root, 'boot/firmware/config.txt'), configTxt);
  mkdirSync(join(root, 'dev'));
  writeFileSync(join(root, 'dev/i2c-1'), '');
  chmodSync(join(root, 'dev/i2c-1'), 0o660);
  if (AS_ROOT) chownSync(join(root, 'dev/i2c-1'), 0, I2C_GID);
  mkdirSync(join(root, 'sys/bus/w1/devices/28-0000075a1b2c'), { recursive: true });
  // A Pi 4 on kernel 6.6: the header's chip is not the first one, and its base is 512.
  for (const [chip, label, base] of [['gpiochip504', 'raspberrypi-exp-gpio', '504'], ['gpiochip512', 'pinctrl-bcm2711', '512']] as const) {
    mkdirSync(join(root, 'sys/class/gpio', chip), { recursive: true });
    writeFileSync(join(root, 'sys/class/gpio', chip, 'label'), `${label}\n`);
    writeFileSync(join(root, 'sys/class/gpio', chip, 'base'), `${base}\n`);
  }
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/bash\nhedgerow:x:${SERVICE_UID}:${SERVICE_GID}::/var/lib/hedgerow:/usr/sbin/nologin\n`);
  writeFileSync(join(root, 'etc/group'), `root:x:0:\nhedgerow:x:${SERVICE_GID}:\ni2c:x:${I2C_GID}:hedgerow\ngpio:x:997:hedgerow\naudio:x:29:hedgerow\n`);
  mkdirSync(join(root, 'run/systemd/timesync'), { recursive: true });
  writeFileSync(join(root, 'run/systemd/timesync/synchronized'), '');
  const data = join(dir, 'data');
  mkdirSync(data);
  own(data);
  return {
    dir,
    root,
    configTxt: join(root, 'boot/firmware/config.txt'),
    writeConfig(yaml) {
      const file = join(dir, 'hedgerow.yaml');
      writeFileSync(file, `station:\n  id: bench-1\nhardware:\n  mode: virtual\ndataDir: ${data}\n${yaml}`);
      return file;
    },
  };
}

const made: string[] = [];
function pi(configTxt = ''): FakePi {
  const fake = fakePi(configTxt);
  made.push(fake.dir);
  return fake;
}

let open: Mosquitto;
let locked: Mosquitto;

beforeAll(async () => {
  [open, locked] = await Promise.all([Mosquitto.start(), Mosquitto.start({ user: { username: BROKER_USER, password: BROKER_PASSWORD } })]);
}, 30_000);

afterAll(async () => {
  await Promise.all([open?.stop(), locked?.stop()]);
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('hedgerow doctor', () => {
  it('passes a virtual station on a Pi set up by deploy.sh install, and reports the outbox queue', { timeout: TEST_TIMEOUT_MS }, () => {
    const fake = pi();
    // config.txt as the installer leaves it: doctor must want exactly what install.sh adds.
    execFileSync('bash', [join(REPO, 'deploy/install.sh')], { env: { ...process.env, HEDGEROW_ROOT: fake.root }, stdio: 'pipe', timeout: RUN_TIMEOUT_MS });
    const config = fake.writeConfig(`uplink:\n  url: ${open.url}\n`);
    const outbox = Outbox.open({ path: join(fake.dir, 'data/outbox.db'), log: pino({ level: 'silent' }) });
    outbox.append([{ deviceId: 'bench-1', topic: 'dt/weather/bench-1/reading', record: { ts: Date.UTC(2026, 0, 2, 3, 4, 5), ambient_temperature: 4.5 } }]);
    outbox.close();
    own(join(fake.dir, 'data/outbox.db'));

    const out = hedgerow(['--config', config, 'doctor'], fake.root);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^ok {4}config\.txt turns on I²C, 1-Wire and the GPIO pull-ups: .*dtparam=i2c_arm=on, dtoverlay=w1-gpio,gpiopin=4, gpio=5,6=ip,pu$/m);
    expect(out.stdout).toMatch(/^ok {4}the I²C bus device is there .*dev\/i2c-1 is there and hedgerow may use it$/m);
    expect(out.stdout).toMatch(/^ok {4}the sensors of the configured build answer: .*htu21d ambient_temperature/m);
    expect(out.stdout).toMatch(/^ok {4}the 1-Wire ground probe is listed: DS18B20 28-0000075a1b2c/m);
    // hedgerow status's own lines, then the share of the cap and the free disk.
    expect(out.stdout).toMatch(/^ok {4}the outbox .*: outbox .*outbox\.db: 1 records queued \(\d+ bytes, oldest \d+ s old\); sent 0 records in 0 envelopes, dropped 0, retried 0 envelopes; uplink: has not run on this outbox; 0% of the 536870912-byte cap, \d+ MiB free on its disk$/m);
    expect(out.stdout).toMatch(/^ok {4}the GPIO chip of the 40-pin header is found: gpiochip512 \(pinctrl-bcm2711\) at base 512: anemometer BCM 5 is sysfs 517, rain gauge BCM 6 is sysfs 518$/m);
    expect(out.stdout).toMatch(new RegExp(`^ok {4}the uplink reaches its broker .*127\\.0\\.0\\.1:${open.port}: TCP, MQTT CONNACK accepted \\(MQTT 5, client id hedgerow-bench-1-doctor\\)$`, 'm'));
    expect(out.stdout).toMatch(/^skip {2}the systemd units .*systemd does not run this machine/m);
    expect(out.stdout).toMatch(/^0 failed, 0 warnings, 11 ok, 4 skipped$/m);
  });

  it('fails on missing config.txt lines and a missing outbox folder; --fix adds the lines under [all] once and makes the folder; a second --fix changes nothing', { timeout: TEST_TIMEOUT_MS }, () => {
    const fake = pi('[pi4]\ndtoverlay=vc4-kms-v3d\n# dtparam=i2c_arm=on\n');
    const config = fake.writeConfig(`uplink:\n  url: ${open.url}\n`);
    rmSync(join(fake.dir, 'data'), { recursive: true });
    const before = doctorJson(['--config', config], fake.root);
    expect(before.status).toBe(1);
    expect(check(before.report, 'outbox')).toMatchObject({ status: 'fail', found: `the outbox folder ${join(fake.dir, 'data')} does not exist` });
    const missing = check(before.report, 'config-txt');
    expect(missing.status).toBe('fail');
    expect(missing.found).toContain('lacks dtparam=i2c_arm=on, dtoverlay=w1-gpio,gpiopin=4, gpio=5,6=ip,pu');
    expect(missing.fix).toMatch(/--fix adds them/);
    expect(readFileSync(fake.configTxt, 'utf8')).toBe('[pi4]\ndtoverlay=vc4-kms-v3d\n# dtparam=i2c_arm=on\n');

    const first = hedgerow(['--config', config, 'doctor', '--fix'], fake.root);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/fixed: added dtparam=i2c_arm=on to .*config\.txt under \[all\] \(reboot to apply: sudo reboot\)/);
    expect(first.stdout).toMatch(/^WARN {2}config\.txt .*added, active after a reboot$/m);
    expect(first.stdout).toContain(`fixed: created ${join(fake.dir, 'data')}, owned by hedgerow`);
    expect(statSync(join(fake.dir, 'data')).uid).toBe(SERVICE_UID);
    const written = readFileSync(fake.configTxt, 'utf8');
    expect(written).toBe('[pi4]\ndtoverlay=vc4-kms-v3d\n# dtparam=i2c_arm=on\n[all]\ndtparam=i2c_arm=on\ndtoverlay=w1-gpio,gpiopin=4\ngpio=5,6=ip,pu\n');

    const second = doctorJson(['--config', config], fake.root);
    expect(check(second.report, 'config-txt').status).toBe('ok');
    const again = hedgerow(['--config', config, 'doctor', '--fix'], fake.root);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/fixed:/);
    expect(readFileSync(fake.configTxt, 'utf8')).toBe(written);
  });

  it('warns on a key file others can read; --fix makes it 0600, owned by the service user', { timeout: TEST_TIMEOUT_MS }, () => {
    const fake = pi('dtparam=i2c_arm=on\ndtoverlay=w1-gpio,gpiopin=4\ngpio=5,6=ip,pu\n');
    const key = join(fake.dir, 'station.key');
    const cert = join(fake.dir, 'station.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '365', '-subj', '/CN=bench-1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    chmodSync(key, 0o644);
    chmodSync(cert, 0o600);
    own(cert);
    const config = fake.writeConfig(`uplink:\n  url: ${open.url}\n  tls:\n    cert: ${cert}\n    key: ${key}\n`);

    const before = doctorJson(['--config', config], fake.root);
    const loose = check(before.report, 'tls-files');
    expect(loose.status).toBe('warn');
    expect(loose.found).toContain(`uplink.tls.key ${key} has mode 0644: others on this Pi can read it`);
    expect(loose.fix).toContain(`sudo chmod 600 ${key}`);
    expect(statSync(key).mode & 0o777).toBe(0o644);

    const after = hedgerow(['--config', config, 'doctor', '--fix'], fake.root);
    expect(after.stdout).toMatch(new RegExp(`fixed: ${key.replace(/[.]/g, '\\.')}: mode 0644 → 0600, owner hedgerow`));
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(key).uid).toBe(SERVICE_UID);
    expect(after.stdout).toMatch(/^ok {4}the certificate and key files .*mode 0600, readable by hedgerow$/m);
  });

  it('names a wrong broker password, passes the right one, and names host and port of a closed one', { timeout: TEST_TIMEOUT_MS }, async () => {
    const fake = pi('dtparam=i2c_arm=on\ndtoverlay=w1-gpio,gpiopin=4\ngpio=5,6=ip,pu\n');
    const uplink = (url: string, password: string) => fake.writeConfig(`uplink:\n  url: ${url}\n  username: ${BROKER_USER}\n  password: ${password}\n`);

    const wrong = doctorJson(['--config', uplink(locked.url, 'wrong-horse')], fake.root);
    expect(wrong.status).toBe(1);
    const refused = check(wrong.report, 'uplink');
    expect(refused.status).toBe('fail');
    expect(refused.found).toMatch(/bad user name or password, user bench-1/);
    expect(refused.fix).toMatch(/uplink\.password/);

    const right = doctorJson(['--config', uplink(locked.url, BROKER_PASSWORD)], fake.root);
    expect(check(right.report, 'uplink')).toMatchObject({ status: 'ok' });
    expect(right.status).toBe(0);

    const closed = await freePort();
    const away = doctorJson(['--config', uplink(`mqtt://127.0.0.1:${closed}`, BROKER_PASSWORD)], fake.root);
    expect(away.status).toBe(1);
    expect(check(away.report, 'uplink').found).toMatch(new RegExp(`cannot reach 127\\.0\\.0\\.1:${closed} over TCP \\(.*ECONNREFUSED`));
  });

  it('fails a bad config file with the settings loader\'s message and checks nothing else', { timeout: TEST_TIMEOUT_MS }, () => {
    const fake = pi();
    const config = join(fake.dir, 'typo.yaml');
    writeFileSync(config, 'station:\n  intervall: 5m\n');
    const out = hedgerow(['--config', config, 'doctor'], fake.root);
    expect(out.status).toBe(1);
    expect(out.stdout).toMatch(/^FAIL {2}the config file parses: .*typo\.yaml:$/m);
    expect(out.stdout).toContain('station: unknown key "intervall"; did you mean "interval"?');
    expect(out.stdout).toMatch(/^1 failed, 0 warnings, 0 ok, 14 skipped$/m);
  });

  it('without --config reads the installed /etc/hedgerow/hedgerow.yaml, and names it when it does not parse', { timeout: TEST_TIMEOUT_MS }, () => {
    const fake = pi();
    mkdirSync(join(fake.root, 'etc/hedgerow'));
    writeFileSync(join(fake.root, 'etc/hedgerow/hedgerow.yaml'), 'station:\n  id: north field\n');
    const { status, report } = doctorJson([], fake.root);
    expect(status).toBe(1);
    expect(report.config).toBe(join(fake.root, 'etc/hedgerow/hedgerow.yaml'));
    expect(check(report, 'config')).toMatchObject({ status: 'fail', found: expect.stringContaining('station.id: use 1-64 letters, digits, "-" or "_"') });
  });

  it('masks a password the settings loader quotes back, as a wrong type or in a YAML line', { timeout: TEST_TIMEOUT_MS }, () => {
    const fake = pi();
    const wrongType = join(fake.dir, 'number.yaml');
    writeFileSync(wrongType, 'uplink:\n  password: 98765432\n');
    const typed = doctorJson(['--config', wrongType], fake.root);
    expect(check(typed.report, 'config').found).toContain('uplink.password: Invalid input: expected string, received number (got ***)');
    expect(typed.stdout).not.toContain('98765432');
    const badYaml = join(fake.dir, 'colon.yaml');
    writeFileSync(badYaml, 'uplink:\n  password: horse: battery\n');
    const yaml = hedgerow(['--config', badYaml, 'doctor'], fake.root);
    expect(yaml.stdout).toContain('(the line reads: "  password: ***")');
    expect(yaml.stdout).not.toMatch(/horse|battery/);
  });

  it('--json parses with the schema and holds no password, not even one written into the URL', { timeout: TEST_TIMEOUT_MS }, () => {
    const fake = pi('dtparam=i2c_arm=on\ndtoverlay=w1-gpio,gpiopin=4\ngpio=5,6=ip,pu\n');
    const url = locked.url.replace('mqtt://', `mqtt://${BROKER_USER}:${BROKER_PASSWORD}@`);
    const config = fake.writeConfig(`uplink:\n  url: ${url}\n  username: ${BROKER_USER}\n  password: ${BROKER_PASSWORD}\n`);
    const { status, report, stdout } = doctorJson(['--config', config], fake.root);
    expect(status).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.root).toBe(fake.root);
    expect(report.checks.map((c) => c.id)).toEqual(['config', 'station-id', 'config-txt', 'i2c-device', 'sensors', 'one-wire', 'gpio', 'groups', 'outbox', 'uplink', 'tls-files', 'clock', 'nfc-reader', 'audio', 'units']);
    expect(check(report, 'uplink').status).toBe('ok');
    expect(stdout).not.toContain(BROKER_PASSWORD);
  });

  it('over mutual TLS: the right client certificate passes, one from another CA is named as refused, a wrong CA as untrusted', { timeout: TEST_TIMEOUT_MS }, async () => {
    const pki = makeTestPki();
    const broker = await Mosquitto.start({ mtls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
    try {
      const fake = pi('dtparam=i2c_arm=on\ndtoverlay=w1-gpio,gpiopin=4\ngpio=5,6=ip,pu\n');
      for (const file of [pki.clientCert, pki.clientKey, pki.otherClientCert, pki.otherClientKey]) {
        chmodSync(file, 0o600);
        own(file);
      }
      const mtls = (ca: string, cert: string, key: string) => fake.writeConfig(`uplink:\n  url: mqtts://127.0.0.1:${broker.port}\n  tls:\n    ca: ${ca}\n    cert: ${cert}\n    key: ${key}\n`);

      const good = doctorJson(['--config', mtls(pki.ca, pki.clientCert, pki.clientKey)], fake.root);
      expect(check(good.report, 'uplink').found).toMatch(new RegExp(`^mqtts://127\\.0\\.0\\.1:${broker.port}: TCP, TLS, MQTT CONNACK accepted`));
      // The test PKI's certificates last 2 days: doctor warns 30 days ahead.
      expect(check(good.report, 'tls-files')).toMatchObject({ status: 'warn', found: expect.stringMatching(/expires on .* within 30 days/) });
      expect(good.status).toBe(0);

      const stranger = check(doctorJson(['--config', mtls(pki.ca, pki.otherClientCert, pki.otherClientKey)], fake.root).report, 'uplink');
      expect(stranger.status).toBe('fail');
      expect(stranger.found).toMatch(new RegExp(`^TLS to 127\\.0\\.0\\.1:${broker.port}: the broker refused our client certificate`));
      expect(stranger.fix).toContain(`uplink.tls.cert (${pki.otherClientCert})`);

      const wrongCa = check(doctorJson(['--config', mtls(join(pki.dir, 'other-ca.crt'), pki.clientCert, pki.clientKey)], fake.root).report, 'uplink');
      expect(wrongCa.found).toMatch(/the broker's certificate is not trusted/);
      expect(wrongCa.fix).toContain('other-ca.crt) is not the CA that signed the broker\'s certificate');
    } finally {
      await broker.stop();
      pki.remove();
    }
  });

  it('refuses --fix when not root, saying what to run, before checking anything', { timeout: TEST_TIMEOUT_MS }, () => {
    // A real machine (no HEDGEROW_ROOT) and a user who is not root: nobody, when the suite runs as root.
    const asUser = AS_ROOT ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const env = { ...process.env };
    delete env.HEDGEROW_ROOT;
    const [command, ...args] = [...asUser, process.execPath, CLI, 'doctor', '--fix'];
    const out = spawnSync(command!, args, { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', env, cwd: tmpdir() });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('hedgerow doctor: --fix changes system files: run it as root, sudo hedgerow doctor --fix');
    // Refused before any check ran.
    expect(out.stdout).toBe('');
  });

  it('names the groups the service user lacks; --fix adds it to them with usermod', { timeout: TEST_TIMEOUT_MS }, () => {
    const fake = pi('dtparam=i2c_arm=on\ndtoverlay=w1-gpio,gpiopin=4\ngpio=5,6=ip,pu\n');
    const groups = join(fake.root, 'etc/group');
    writeFileSync(groups, readFileSync(groups, 'utf8').replace('gpio:x:997:hedgerow', 'gpio:x:997:').replace('audio:x:29:hedgerow', 'audio:x:29:pi'));
    const config = fake.writeConfig(`uplink:\n  url: ${open.url}\n`);
    const before = check(doctorJson(['--config', config], fake.root).report, 'groups');
    expect(before).toMatchObject({ status: 'fail', found: 'hedgerow is not in gpio, audio' });
    expect(before.fix).toContain('sudo usermod -aG gpio,audio hedgerow');

    const after = hedgerow(['--config', config, 'doctor', '--fix'], fake.root);
    if (AS_ROOT) {
      expect(after.stdout).toContain('fixed: added hedgerow to gpio, audio');
      expect(after.stdout).toMatch(/^ok {4}the service user is in the i2c, gpio, audio groups: hedgerow is in i2c, gpio, audio$/m);
      expect(readFileSync(groups, 'utf8')).toMatch(/^audio:x:29:pi,hedgerow$/m);
    } else {
      // usermod --root needs root to chroot: doctor says so and what to run.
      expect(after.stdout).toMatch(/FAIL {2}the service user .*usermod could not add hedgerow to gpio, audio/);
    }
  });

  it('fails a damaged outbox without touching it, naming the integrity check', { timeout: TEST_TIMEOUT_MS }, () => {
    const fake = pi('dtparam=i2c_arm=on\ndtoverlay=w1-gpio,gpiopin=4\ngpio=5,6=ip,pu\n');
    const file = join(fake.dir, 'data/outbox.db');
    const garbage = Buffer.from('SQLite format 3\u0000'.padEnd(4096, 'x'));
    writeFileSync(file, garbage);
    own(file);
    const config = fake.writeConfig(`uplink:\n  url: ${open.url}\n`);
    const { status, report } = doctorJson(['--config', config], fake.root);
    expect(status).toBe(1);
    const outbox = check(report, 'outbox');
    expect(outbox.status).toBe('fail');
    expect(outbox.found).toMatch(new RegExp(`^the outbox ${file.replace(/[.]/g, '\\.')} is damaged \\(SQLITE_(NOTADB|CORRUPT)`));
    expect(outbox.fix).toMatch(/moves the damaged file aside \(nothing is deleted\)/);
    expect(readFileSync(file).equals(garbage)).toBe(true);
  });

  it('for a museum box, names a missing pcscd with its fix, and reports the sound cards aplay lists', { timeout: TEST_TIMEOUT_MS }, () => {
    const fake = pi('dtparam=i2c_arm=on\ndtoverlay=w1-gpio,gpiopin=4\ngpio=5,6=ip,pu\n');
    const config = fake.writeConfig(`uplink:\n  url: ${open.url}\nmuseum:\n  enabled: true\n  reader:\n    mode: real\n  audio:\n    mode: real\n`);
    // pcsc-lite's client honours PCSCLITE_CSOCK_NAME: a socket nobody serves stands for a Pi without pcscd.
    const socket = join(fake.dir, 'no-pcscd.comm');
    const out = spawnSync(process.execPath, [CLI, '--config', config, 'doctor', '--json'], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', env: { ...process.env, HEDGEROW_ROOT: fake.root, PCSCLITE_CSOCK_NAME: socket } });
    const report = doctorReport.parse(JSON.parse(out.stdout));
    expect(check(report, 'nfc-reader')).toMatchObject({ status: 'fail', found: `nothing answers on pcscd's socket ${socket}` });
    expect(check(report, 'nfc-reader').fix).toContain('sudo apt install pcscd && sudo systemctl enable --now pcscd.socket');
    const cards = spawnSync('aplay', ['-l'], { encoding: 'utf8' }).stdout.split('\n').filter((line) => line.startsWith('card ')).length;
    const audio = check(report, 'audio');
    if (cards === 0) expect(audio).toMatchObject({ status: 'fail', found: expect.stringMatching(/^aplay -l lists no sound card/) });
    else expect(audio).toMatchObject({ status: 'ok', found: expect.stringMatching(new RegExp(`^${cards} sound card`)) });
    expect(out.status).toBe(1);
  });
});
