// deploy.sh install's units step (block 4) in a folder standing in for the SD card: which units, from which
// templates, the earlier hedgerow.service removed, nothing rewritten on a second run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

function install(root: string, ...args: string[]) {
  return spawnSync('bash', ['deploy.sh', 'install', ...args], { env: { ...process.env, HEDGEROW_ROOT: root }, encoding: 'utf8' });
}

function freshCard(): string {
  const root = mkdtempSync(join(tmpdir(), 'hedgerow-units-'));
  mkdirSync(join(root, 'boot/firmware'), { recursive: true });
  writeFileSync(join(root, 'boot/firmware/config.txt'), '[all]\n');
  return root;
}

const systemd = (root: string) => join(root, 'etc/systemd/system');

describe('deploy.sh install: the systemd units', () => {
  it('installs the station unit and the shared hardening drop-in by default, with node\'s flags filled in', () => {
    const root = freshCard();
    expect(install(root).status).toBe(0);
    expect(readdirSync(systemd(root)).sort()).toEqual(['hedgerow-.service.d', 'hedgerow-station.service']);
    const unit = readFileSync(join(systemd(root), 'hedgerow-station.service'), 'utf8');
    expect(unit).not.toContain('@');
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^WatchdogSec=\d+$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node --jitless --no-expose-wasm \/opt\/hedgerow\/current\/bin\/hedgerow\.js /m);
    // What install.sh says node runs with is what the unit runs with (test/bench/week-outage.bench.ts reads those lines).
    const script = readFileSync('deploy/install.sh', 'utf8');
    const options = /^node_options='(.*)'$/m.exec(script)![1];
    expect(unit).toContain(`Environment=NODE_OPTIONS="${options}"`);
    expect(readFileSync(join(systemd(root), 'hedgerow-.service.d/hardening.conf'), 'utf8')).toMatch(/^ProtectSystem=strict$/m);
  });

  it('a station with the museum runs both in the station unit (museum.enabled: true), one process per outbox', () => {
    const root = freshCard();
    const run = install(root, '--museum');
    expect(run.status).toBe(0);
    expect(existsSync(join(systemd(root), 'hedgerow-museum.service'))).toBe(false);
    expect(parse(readFileSync(join(root, 'etc/hedgerow/hedgerow.yaml'), 'utf8')).museum).toEqual({ enabled: true });
    const museumOnly = freshCard();
    expect(install(museumOnly, '--role', 'museum').status).toBe(0);
    expect(readFileSync(join(systemd(museumOnly), 'hedgerow-museum.service'), 'utf8')).toMatch(/\/bin\/hedgerow\.js --config \/etc\/hedgerow\/hedgerow\.yaml box$/m);
  });

  it('removes the hedgerow.service of an earlier install, and rewrites nothing on a second run', () => {
    const root = freshCard();
    mkdirSync(join(systemd(root), 'multi-user.target.wants'), { recursive: true });
    writeFileSync(join(systemd(root), 'hedgerow.service'), '[Service]\nExecStart=/usr/bin/node /opt/hedgerow/bin/hedgerow.js station\n');
    writeFileSync(join(systemd(root), 'multi-user.target.wants/hedgerow.service'), '');
    const first = install(root);
    expect(first.stdout).toMatch(/removed the earlier .*hedgerow\.service \(now hedgerow-station\.service\)/);
    expect(existsSync(join(systemd(root), 'hedgerow.service'))).toBe(false);
    expect(existsSync(join(systemd(root), 'multi-user.target.wants/hedgerow.service'))).toBe(false);
    const unit = join(systemd(root), 'hedgerow-station.service');
    const written = statSync(unit).mtimeMs;
    const second = install(root);
    expect(second.status).toBe(0);
    expect(second.stdout).not.toMatch(/wrote .*systemd|removed/);
    expect(statSync(unit).mtimeMs).toBe(written);
  });

  it('refuses an unknown role, naming the ones there are', () => {
    const run = install(freshCard(), '--role', 'weather');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--role must be station, museum .* or cloud, not 'weather'/);
  });

  it('install.sh passes shellcheck -x', () => {
    const check = spawnSync('shellcheck', ['-x', 'deploy/install.sh'], { encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
