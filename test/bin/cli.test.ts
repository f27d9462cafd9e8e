import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../bin/hedgerow.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function hedgerow(args: string[], cwd = tmpdir(), env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
}

describe('hedgerow CLI', () => {
  it('prints help for the program and each subcommand', () => {
    const top = hedgerow(['--help']);
    expect(top.status).toBe(0);
    for (const name of ['start', 'station', 'sensors', 'gateway', 'broker', 'status', 'box', 'cloud']) expect(top.stdout).toContain(name);
    const station = hedgerow(['station', '--help']);
    expect(station.status).toBe(0);
    expect(station.stdout).toMatch(/--hardware <mode>.*virtual, real, or auto/s);
    expect(hedgerow(['sensors', '--help']).stdout).toMatch(/check the wiring/);
    // Where to look once it runs: the page, the API and the credentials file.
    const start = hedgerow(['start', '--help']).stdout;
    expect(start).toMatch(/weather page +http:\/\/127\.0\.0\.1:8780\//);
    expect(start).toMatch(/API +http:\/\/127\.0\.0\.1:8780 /);
    expect(start).toMatch(/API keys +data\/cloud\/api-credentials\.json/);
    expect(start).toMatch(/--host <address>/);
  });

  it('`sensors` prints one reading per sensor on virtual hardware', () => {
    const out = hedgerow(['sensors', '--hardware', 'virtual', '--station-id', 'bench-1']);
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^virtual hardware, weather-hat build/m);
    expect(out.stdout).toMatch(/^ok\s+htu21d\s+ambient_temperature -?\d+(\.\d+)? °C, humidity \d+(\.\d+)? %RH$/m);
    expect(out.stdout).toMatch(/^ok\s+bmp180\s+air_pressure \d{3,4}(\.\d+)? hPa$/m);
    expect(out.stdout).toMatch(/^ok\s+anemometer\s+wind_speed [\d.]+ km\/h, wind_gust_speed [\d.]+ km\/h$/m);
    expect(out.stdout).toMatch(/^ok\s+ds18b20\s+ground_temperature/m);
  });

  it('`sensors` prints the anemometer factor in use: the Weather HAT kit\'s by default, the config\'s when set', () => {
    const hat = hedgerow(['sensors', '--hardware', 'virtual', '--station-id', 'bench-1']);
    expect(hat.stdout).toMatch(/^anemometer factor 1\.2 km\/h per closure per second \(hardware\.gpio\.anemometerKmhPerHz\)$/m);
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-cli-'));
    writeFileSync(join(dir, 'argent.yaml'), 'hardware:\n  gpio:\n    anemometerKmhPerHz: 2.4\n');
    const argent = hedgerow(['--config', join(dir, 'argent.yaml'), 'sensors', '--hardware', 'virtual', '--station-id', 'bench-1']);
    expect(argent.status).toBe(0);
    expect(argent.stdout).toMatch(/^anemometer factor 2\.4 km\/h per closure per second \(hardware\.gpio\.anemometerKmhPerHz\)$/m);
    expect(argent.stdout).toMatch(/^ok\s+anemometer\s+wind_speed [\d.]+ km\/h/m);
  });

  it('HEDGEROW_LOG_LEVEL reaches the command\'s logger when --log-level is not given', () => {
    const quiet = hedgerow(['sensors', '--hardware', 'virtual', '--station-id', 'bench-1'], tmpdir(), { HEDGEROW_LOG_LEVEL: 'warn' });
    expect(quiet.status).toBe(0);
    expect(quiet.stdout).toMatch(/^ok\s+htu21d/m);
    expect(quiet.stdout).not.toMatch(/INFO/);
    const flag = hedgerow(['--log-level', 'info', 'sensors', '--hardware', 'virtual', '--station-id', 'bench-1'], tmpdir(), { HEDGEROW_LOG_LEVEL: 'warn' });
    expect(flag.stdout).toMatch(/INFO: hardware: virtual/);
  });

  it('`sensors` on real hardware without a bus says what is missing and how to fix it, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-cli-'));
    writeFileSync(join(dir, 'pi.yaml'), 'hardware:\n  mode: real\n  i2cBus: 17\n  oneWireRoot: /nonexistent\n  gpio:\n    sysfsRoot: /nonexistent\nstation:\n  build: bme280\n');
    const out = hedgerow(['--config', join(dir, 'pi.yaml'), 'sensors']);
    expect(out.status).toBe(1);
    expect(out.stdout).toMatch(/^MISSING bme280\s+BME280 not found at 0x76\/0x77 on \/dev\/i2c-17: is I²C enabled \(sudo raspi-config nonint do_i2c 0\)\?/m);
    expect(out.stdout).toMatch(/^MISSING ds18b20\s+DS18B20 not found: \/nonexistent does not exist, so 1-Wire is off/m);
  });

  it('`box list --collection` lists that collection and flags a missing audio file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-collection-'));
    writeFileSync(
      join(dir, 'manifest.yaml'),
      'title: Village museum\nobjects:\n  - uid: 04a224e2c85e80\n    title: Roman coin\n    audio: coin.wav\n  - uid: 04a224e2c85e81\n    title: Sheep bell\n    audio: bell.wav\n',
    );
    writeFileSync(join(dir, 'coin.wav'), 'RIFF');
    const out = hedgerow(['box', 'list', '--collection', dir]);
    expect(out.stdout).toMatch(/Village museum/);
    expect(out.stdout).toMatch(/04a224e2c85e80\s+Roman coin\s+coin.wav/);
    expect(out.stdout).toMatch(/bell.wav.*missing/i);
    expect(out.status).toBe(1);
  });

  it('refuses cloud.mqtt.shareGroup with the embedded broker of hedgerow start, saying what to run instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-cli-'));
    // Free ports, so that a start that went ahead would not take another test's.
    const config = { broker: { port: await freePort() }, api: { port: await freePort() }, dataDir: join(dir, 'station'), cloud: { dataDir: join(dir, 'cloud'), mqtt: { shareGroup: 'hedgerow' } } };
    writeFileSync(join(dir, 'share.json'), JSON.stringify(config));
    const out = hedgerow(['--config', join(dir, 'share.json'), 'start']);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/nothing was started/);
    expect(out.stderr).toMatch(/cloud\.mqtt\.shareGroup "hedgerow" needs a broker with shared subscriptions.*embedded broker.*hedgerow cloud/);
  });

  it('refuses a bad config before starting anything, naming key, value and what is allowed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-cli-'));
    writeFileSync(join(dir, 'bad.yaml'), 'station:\n  interval: soon\nhardware:\n  mode: pi\n');
    const out = hedgerow(['--config', join(dir, 'bad.yaml'), 'station']);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/nothing was started/);
    expect(out.stderr).toMatch(/station.interval: expected seconds.*\(got "soon"\)/);
    expect(out.stderr).toMatch(/hardware.mode: .*"auto".*"real".*"virtual".*\(got "pi"\)/);
    const zero = hedgerow(['station', '--interval', '0', '--hardware', 'virtual']);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toMatch(/station.interval: a duration must be more than 0 s/);
    const loud = hedgerow(['station', '--log-level', 'loud']);
    expect(loud.status).not.toBe(0);
    expect(loud.stderr).toMatch(/'loud' is invalid\. Allowed choices are trace, debug, info, warn, error, fatal, silent/);
    expect(loud.stderr).not.toMatch(/custom levels/);
    const flag = hedgerow(['station', '--interval', '0.2']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/station.interval: .*at least 1 s/);
  });

  it('`start` shows virtual station records on a fresh folder, and they reach the cloud', { timeout: 60_000 }, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hedgerow-start-'));
    // The demo's ports (1883, 8780) may be taken on a developer's machine: the same stack on free ones.
    const [mqttPort, apiPort] = [await freePort(), await freePort()];
    const demo = { mqtt: `mqtt://127.0.0.1:${mqttPort}` };
    writeFileSync(
      join(cwd, 'demo.json'),
      JSON.stringify({
        station: { interval: '2s' },
        broker: { port: mqttPort },
        uplink: { url: demo.mqtt },
        cloud: { mqtt: { url: demo.mqtt } },
        api: { port: apiPort },
      }),
    );
    const child = spawn(process.execPath, [CLI, '--config', 'demo.json', 'start', '--station-id', 'demo-1'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    // No timing is asserted (the machine may be loaded); how long the first record takes is in the issue note.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no record within 45 s:\n${out}`)), 45_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (/demo-1 \d\d:\d\d:\d\dZ {2}air -?\d/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // Wait for a second record, so the first has had a whole interval to travel to the cloud.
    await new Promise<void>((resolve) => {
      const check = () => ((out.match(/demo-1 \d\d:\d\d:\d\dZ/g) ?? []).length >= 2 ? resolve() : setTimeout(check, 100));
      check();
    });
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    expect(out).toMatch(/sensors ok: htu21d, bmp180, air_quality, ds18b20, wind_vane, anemometer, rain_gauge/);
    expect(out).toMatch(/records go to the outbox .*data\/outbox.db/);
    expect(out).toMatch(/IoT Analytics API listening/);
    // Start-up ends with one plain line: where the page, the API and the keys are.
    expect(out).toMatch(new RegExp(`^hedgerow: running\\. Weather page http://127\\.0\\.0\\.1:${apiPort}/  API http://127\\.0\\.0\\.1:${apiPort} \\(region eu-west-1\\)  API keys: (data/cloud/api-credentials\\.json|api\\.accessKeys)`, 'm'));
    // The vane is read several times per record even at a 2 s interval, so every record has a direction.
    expect(out).not.toMatch(/demo-1 .* from —°/);
    expect(code).toBe(0);
    const store = new Database(join(cwd, 'data/cloud/datastores.sqlite'), { readonly: true });
    const rows = store.prepare('SELECT count(*) AS n FROM weather_datastore').get() as { n: number };
    store.close();
    expect(rows.n).toBeGreaterThanOrEqual(1);
  });
});
