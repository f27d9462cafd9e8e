import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Mosquitto } from '../gateway/helpers/mosquitto.ts';
import { Collector } from '../gateway/helpers/subscriber.ts';

function deploy(root: string, ...args: string[]) {
  return spawnSync('bash', ['deploy.sh', 'install', ...args], { env: { ...process.env, HEDGEROW_ROOT: root }, encoding: 'utf8' });
}

function freshCard(): string {
  const root = mkdtempSync(join(tmpdir(), 'hedgerow-sd-'));
  mkdirSync(join(root, 'boot/firmware'), { recursive: true });
  writeFileSync(join(root, 'boot/firmware/config.txt'), '[all]\ndtparam=audio=on\n');
  return root;
}

describe('deploy.sh install (file steps, in a folder standing in for the SD card)', () => {
  it('enables I²C, 1-Wire and the pull-ups once, however often it runs', () => {
    const root = freshCard();
    expect(deploy(root, '--build', 'weather-hat', '--station-id', 'north-field').status).toBe(0);
    const second = deploy(root, '--build', 'weather-hat', '--station-id', 'north-field');
    expect(second.status).toBe(0);
    expect(second.stdout).not.toMatch(/config.txt: added/);
    const config = readFileSync(join(root, 'boot/firmware/config.txt'), 'utf8').split('\n');
    for (const line of ['dtparam=i2c_arm=on', 'dtoverlay=w1-gpio,gpiopin=4', 'gpio=5,6=ip,pu', 'dtoverlay=i2c-rtc,pcf8523']) {
      expect(config.filter((l) => l === line)).toHaveLength(1);
    }
    expect(config).toContain('dtparam=audio=on');
    expect(readFileSync(join(root, 'etc/modules'), 'utf8')).toBe('i2c-dev\n');
  });

  it('writes a config the station accepts and a unit that starts it on boot', () => {
    const root = freshCard();
    expect(deploy(root, '--station-id', 'school_7').status).toBe(0);
    const config = parse(readFileSync(join(root, 'etc/hedgerow/hedgerow.yaml'), 'utf8'));
    expect(config.station).toMatchObject({ id: 'school_7', build: 'auto', interval: '5m' });
    expect(config.hardware.mode).toBe('real');
    const unit = readFileSync(join(root, 'etc/systemd/system/hedgerow-station.service'), 'utf8');
    expect(unit).toMatch(/ExecStart=.*hedgerow\.js --config \/etc\/hedgerow\/hedgerow.yaml station/);
    expect(unit).toMatch(/WantedBy=multi-user.target/);
    expect(unit).toMatch(/Restart=always/);
    expect(unit).toMatch(/Environment=NODE_OPTIONS="--max-old-space-size=64 --max-semi-space-size=1"/);
    expect(readFileSync(join(root, 'opt/hedgerow/current/package.json'), 'utf8')).toMatch(/"name": "hedgerow"/);
  });

  it('copies the code but not dist/ (a build matches only the sources it was made from: npm ci on the Pi makes it)', () => {
    // A build here, as a developer's checkout has one.
    expect(spawnSync(process.execPath, ['bin/build.js', '--quiet']).status).toBe(0);
    expect(existsSync('dist')).toBe(true);
    const root = freshCard();
    expect(deploy(root).status).toBe(0);
    expect(existsSync(join(root, 'opt/hedgerow/current/bin/build.js'))).toBe(true);
    expect(existsSync(join(root, 'opt/hedgerow/current/dist'))).toBe(false);
    // On a real Pi (not in this stand-in folder) the build runs as root after npm ci.
    expect(readFileSync('deploy/release.sh', 'utf8')).toContain('(cd "$partial" && node bin/build.js');
  });

  it('runs a station with the unit\'s node flags and NODE_OPTIONS: it samples and sends, and node prints no warning', { timeout: 60_000 }, async () => {
    const root = freshCard();
    expect(deploy(root).status).toBe(0);
    const unit = readFileSync(join(root, 'etc/systemd/system/hedgerow-station.service'), 'utf8');
    const flags = /^ExecStart=\/usr\/bin\/node (.*?) ?\/opt\/hedgerow\/current\/bin\/hedgerow\.js /m.exec(unit)![1]!.split(' ').filter(Boolean);
    const nodeOptions = /^Environment=NODE_OPTIONS="(.*)"$/m.exec(unit)![1]!;
    const broker = await Mosquitto.start();
    const collector = await Collector.start(broker.url, 'dt/weather/deploy-1/reading');
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-unit-'));
    writeFileSync(join(dir, 'hedgerow.yaml'), `dataDir: ${dir}\nuplink:\n  url: ${broker.url}\n`);
    const args = [...flags, 'bin/hedgerow.js', '--config', join(dir, 'hedgerow.yaml'), 'station', '--hardware', 'virtual', '--interval', '1', '--station-id', 'deploy-1'];
    const station = spawn(process.execPath, args, { env: { ...process.env, NODE_OPTIONS: nodeOptions }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    station.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await collector.until(() => collector.records().length >= 2, 45_000);
    } finally {
      station.kill('SIGTERM');
      await once(station, 'close');
      await collector.stop();
      await broker.stop();
    }
    expect(station.exitCode).toBe(0);
    expect(collector.records()[0]).toMatchObject({ ambient_temperature: expect.any(Number) });
    expect(stderr).toBe('');
  });

  it('puts hedgerow on the PATH: the running release with the installed config, unless --config is given', () => {
    const root = freshCard();
    expect(deploy(root, '--station-id', 'x').status).toBe(0);
    const launcher = join(root, 'usr/local/bin/hedgerow');
    expect(statSync(launcher).mode & 0o777).toBe(0o755);
    const text = readFileSync(launcher, 'utf8');
    expect(text).toMatch(/^exec \/usr\/bin\/node \/opt\/hedgerow\/current\/bin\/hedgerow\.js --config \/etc\/hedgerow\/hedgerow\.yaml "\$@"$/m);
    expect(spawnSync('sh', ['-n', launcher]).status).toBe(0);
    expect(deploy(root, '--station-id', 'x').stdout).not.toContain('usr/local/bin/hedgerow');
  });

  it('writes the engine\'s cloud.storage from --storage, readable by the service only when the URL has a password', () => {
    const plain = freshCard();
    expect(deploy(plain, '--role', 'cloud').status).toBe(0);
    const sqlite = parse(readFileSync(join(plain, 'etc/hedgerow/cloud.yaml'), 'utf8'));
    expect(sqlite.cloud).toEqual({ dataDir: '/var/lib/hedgerow/cloud' });
    const root = freshCard();
    const url = 'postgres://engine:s3cret@db.school:5432/hedgerow';
    const run = deploy(root, '--role', 'cloud', '--storage', url);
    expect(run.status, run.stderr).toBe(0);
    const file = join(root, 'etc/hedgerow/cloud.yaml');
    expect(parse(readFileSync(file, 'utf8')).cloud).toEqual({ dataDir: '/var/lib/hedgerow/cloud', storage: url });
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(run.stdout).not.toContain('s3cret');
    expect(deploy(freshCard(), '--role', 'cloud', '--storage', 'redis://x').stderr).toMatch(/--storage must be sqlite or a PostgreSQL URL/);
  });

  it('keeps a config the user edited', () => {
    const root = freshCard();
    deploy(root);
    writeFileSync(join(root, 'etc/hedgerow/hedgerow.yaml'), 'station:\n  id: mine\n');
    expect(deploy(root).stdout).toMatch(/kept existing/);
    expect(readFileSync(join(root, 'etc/hedgerow/hedgerow.yaml'), 'utf8')).toBe('station:\n  id: mine\n');
  });

  it('refuses bad options with what is allowed', () => {
    const root = freshCard();
    const bad = deploy(root, '--build', 'bme680');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--build must be auto, bme280 or weather-hat/);
    const badId = deploy(root, '--station-id', 'a/b');
    expect(badId.status).toBe(2);
    expect(badId.stderr).toMatch(/letters, digits/);
    const noCard = deploy(mkdtempSync(join(tmpdir(), 'hedgerow-empty-')));
    expect(noCard.status).toBe(1);
    expect(noCard.stderr).toMatch(/no config.txt/);
  });
});

describe('deploy.sh (the subcommand dispatcher)', () => {
  const dispatch = (...args: string[]) => spawnSync('bash', ['deploy.sh', ...args], { encoding: 'utf8' });

  it('names the subcommands when given none, or an old-style option', () => {
    const none = dispatch();
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/sdcard, pi, cloud, aws or install/);
    const old = dispatch('--build', 'bme280');
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(/\.\/deploy\.sh install --build bme280/);
    expect(dispatch('flash').stderr).toMatch(/unknown subcommand 'flash'/);
  });

  it('prints each subcommand\'s own help from its script', () => {
    const help = dispatch('install', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^deploy\.sh install: on the Pi itself/);
    expect(help.stdout).not.toMatch(/^#/m);
    expect(dispatch('--help').stdout).toMatch(/sdcard BOOT_MOUNT/);
  });
});
