import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../cloud/engine/code-location.ts';
import type { Machine } from './machine.ts';

/**
 * config.txt, the Pi firmware's boot config: the lines that turn on I²C, 1-Wire and the GPIO pull-ups.
 * The list is deploy/lib.sh's `pi_config_lines`, which install.sh and sdcard.sh add, asked of that
 * script itself, so the installers and doctor can never disagree about what a station needs.
 */

/** The shell library whose `pi_config_lines BUILD` prints the list; it sits in every copy of the package. */
export const INSTALL_SCRIPT = join(PACKAGE_ROOT, 'deploy/lib.sh');

/** Bookworm and later keep config.txt in /boot/firmware, older releases in /boot (as install.sh looks). */
export function configTxtPath(machine: Machine): string | null {
  for (const path of ['/boot/firmware/config.txt', '/boot/config.txt']) {
    if (existsSync(machine.path(path))) return machine.path(path);
  }
  return null;
}

/** The lines a station of this build needs, as `pi_config_lines` prints them. */
export function bootLines(build: string, script = INSTALL_SCRIPT): string[] {
  const result = spawnSync('bash', ['-c', '. "$1" && pi_config_lines "$2"', 'doctor', script, build], { encoding: 'utf8', timeout: 10_000 });
  const lines = result.status === 0 ? result.stdout.split('\n').filter(Boolean) : [];
  if (lines.length === 0) throw new Error(`found no config.txt lines from pi_config_lines in ${script}: ${result.stderr || result.error?.message || 'it printed nothing'}`);
  return lines;
}

/** The lines that apply on every Pi: before the first [section] or under [all]. */
export function activeLines(text: string): Set<string> {
  const active = new Set<string>();
  let section = 'all';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1]!.trim().toLowerCase();
    else if (section === 'all' && line !== '' && !line.startsWith('#')) active.add(line);
  }
  return active;
}

/** The section in force at the end of the file, where an appended line lands. */
function lastSection(text: string): string {
  const headers = [...text.matchAll(/^\s*\[(.+)\]\s*$/gm)];
  return headers.length === 0 ? 'all' : headers.at(-1)![1]!.trim().toLowerCase();
}

/** Appends the lines under [all] (adding the header when another section is open); says what it did. */
export function addBootLines(path: string, lines: readonly string[]): string[] {
  const text = readFileSync(path, 'utf8');
  let add = text === '' || text.endsWith('\n') ? '' : '\n';
  if (lastSection(text) !== 'all') add += '[all]\n';
  add += lines.map((line) => `${line}\n`).join('');
  appendFileSync(path, add);
  return lines.map((line) => `added ${line} to ${path} under [all] (reboot to apply: sudo reboot)`);
}
