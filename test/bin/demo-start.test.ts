import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BACKFILL_STEP_MS } from '../../bin/demo-backfill.ts';
import { DEMO_STATIONS } from '../../bin/demo-stations.ts';

/**
 * `npm start` with no config: three demo stations, a week of backfill, and the virtual weather control.
 * The demo listens on its fixed ports (1883, 8780), which other tests on this machine may hold, so each
 * run gets a network namespace of its own (`unshare -n`, with only loopback up); `demo weather` joins it
 * with nsenter (network only).
 */

const CLI = join(import.meta.dirname, '../../bin/hedgerow.js');
const WEEK = (7 * 24 * 3600_000) / BACKFILL_STEP_MS;
const IDS = DEMO_STATIONS.map((s) => s.id);

interface Run {
  child: ChildProcess;
  out: () => string;
  waitFor: (pattern: RegExp, what: string, ms?: number) => Promise<RegExpMatchArray>;
  stop: () => Promise<number | null>;
}

/** Starts the demo in its own network namespace; a kill timer ends it even if the test is stuck. */
function startDemo(cwd: string): Run {
  // A mount namespace too, with pcscd's socket folder hidden: other tests' virtual readers on this machine's
  // pcscd must not become the demo museum box's reader (the demo falls back to its virtual one).
  const hidePcscd = 'if [ -d /run/pcscd ]; then mount -t tmpfs none /run/pcscd; fi';
  const child = spawn('unshare', ['-n', '-m', 'sh', '-c', `ip link set lo up && ${hidePcscd} && exec "${process.execPath}" "${CLI}" start --interval 2s`], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HEDGEROW_LOG_LEVEL: '', HEDGEROW_LOG_FORMAT: '' },
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (clearTimeout(killer), resolve(code))));
  return {
    child,
    out: () => out,
    waitFor: (pattern, what, ms = 90_000) =>
      new Promise((resolve, reject) => {
        const end = Date.now() + ms;
        const check = () => {
          const match = pattern.exec(out);
          if (match) return resolve(match);
          if (Date.now() > end || child.exitCode !== null) return reject(new Error(`no ${what}:\n${out}`));
          setTimeout(check, 100);
        };
        check();
      }),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * Rows per station in the weather datastore, backfilled and live. Backfilled records sit on the 5-minute
 * grid; live ones carry the millisecond they were taken. (A time cut-off would race the backfill's own
 * clock: a 5-minute boundary passing between the test's start and the backfill moved the last record.)
 */
function rows(cwd: string): Record<string, { before: number; after: number }> {
  const db = new Database(join(cwd, 'data/cloud/datastores.sqlite'), { readonly: true });
  try {
    const found = db
      .prepare('SELECT device_id AS id, sum(ts % ? = 0) AS before, sum(ts % ? != 0) AS after FROM weather_datastore GROUP BY device_id')
      .all(BACKFILL_STEP_MS, BACKFILL_STEP_MS) as { id: string; before: number; after: number }[];
    return Object.fromEntries(found.map((r) => [r.id, { before: r.before, after: r.after }]));
  } finally {
    db.close();
  }
}

describe('npm start: the three-station demo', () => {
  it('backfills a week per station once, keeps it across a restart, and takes a virtual weather change', { timeout: 240_000 }, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hedgerow-demo-'));
    const first = startDemo(cwd);
    await first.waitFor(/^hedgerow: running\. Weather page http:\/\/127\.0\.0\.1:8780\/ {2}API http:\/\/127\.0\.0\.1:8780 \(region eu-west-1\) {2}API keys: data\/cloud\/api-credentials\.json {2}Stop: Ctrl-C$/m, 'start line');
    // The backfill is in the datastore before the start line, and the daily dataset already has content.
    const atStart = rows(cwd);
    for (const id of IDS) expect(atStart[id]?.before, id).toBe(WEEK);
    expect(first.out()).toMatch(/dataset content created \(dataset weather_daily,/);
    for (const id of IDS) await first.waitFor(new RegExp(`${id}: ${id} \\d\\d:\\d\\d:\\d\\dZ {2}air -?\\d`), `record from ${id}`);
    // Each station publishes as itself: its own outbox, client id and topic; their records reach the cloud.
    for (const id of IDS) await first.waitFor(new RegExp(`uplink ${id}: uplink connected`), `${id}'s uplink`);
    expect(first.out()).toMatch(/outbox riverside: outbox .*data\/stations\/riverside\/outbox\.db/);
    expect(first.out()).not.toMatch(/Unacceptable protocol version/);
    expect(first.out()).not.toMatch(/"part"|\{"/);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(await first.stop()).toBe(0);
    const afterFirst = rows(cwd);
    for (const id of IDS) expect(afterFirst[id]?.after, `${id}'s live records`).toBeGreaterThanOrEqual(1);

    // The second start: the week is there, so nothing is filled in again.
    const secondStart = Date.now();
    const second = startDemo(cwd);
    await second.waitFor(/^hedgerow: running\./m, 'second start line');
    expect(second.out()).not.toMatch(/filled in/);
    const again = rows(cwd);
    for (const id of IDS) expect(again[id]?.before, id).toBe(WEEK);

    // Frost on the riverside, through `hedgerow demo weather` on the demo's own broker.
    const pid = String(second.child.pid);
    const send = spawnSync('nsenter', ['-t', pid, '-n', process.execPath, CLI, 'demo', 'weather', '--station', 'riverside', '--set', 'ambient_temperature=-3', '--set', 'ground_temperature=-1'], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(send.status, send.stderr).toBe(0);
    expect(send.stdout).toMatch(/riverside: virtual weather ambient_temperature -3, ground_temperature -1 \(sent to mqtt:\/\/127\.0\.0\.1:1883 on cmd\/weather\/riverside\/virtual-weather\)/);
    await second.waitFor(/virtual weather for riverside: ambient_temperature -3/, 'the station taking the change');
    const frosty = await second.waitFor(/riverside: riverside (\d\d:\d\d:\d\d)Z {2}air -3\.0°C {2}ground -1\.0°C/, 'a frosty riverside record');
    const bad = spawnSync('nsenter', ['-t', pid, '-n', process.execPath, CLI, 'demo', 'weather', '--station', 'riverside', '--set', 'ambient_temprature=-3'], { cwd, encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^hedgerow: unknown key ambient_temprature: use ambient_temperature, /);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await second.stop()).toBe(0);

    const db = new Database(join(cwd, 'data/cloud/datastores.sqlite'), { readonly: true });
    const cold = db.prepare("SELECT ambient_temperature AS t, ground_temperature AS g FROM weather_datastore WHERE device_id = 'riverside' AND ts >= ? ORDER BY ts DESC LIMIT 1").get(secondStart) as { t: number; g: number };
    db.close();
    expect(frosty[1]).toBeDefined();
    expect(cold.t).toBeCloseTo(-3, 1);
    expect(cold.g).toBeCloseTo(-1, 1);
  });
});
