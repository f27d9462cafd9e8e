import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * The machine `hedgerow doctor` looks at. System paths (/boot, /dev, /sys, /etc/passwd, /run) sit under
 * `root`, "/" on a Pi; a test passes a folder as HEDGEROW_ROOT, as deploy/install.sh takes it, and
 * builds a fake /boot/firmware, /dev and /sys/bus/w1 there. Paths from the config file are used as written.
 */
export interface Machine {
  root: string;
  /** A system path under the root. */
  path(absolute: string): string;
  /** Runs a command with a hard timeout; null when it is not installed. Never throws. */
  run(command: string, args: readonly string[]): Promise<CommandResult | null>;
  /** True when systemd runs this machine (sd_booted: /run/systemd/system exists). */
  systemd: boolean;
  /** True when doctor runs as root, which --fix needs on a real machine. */
  isRoot: boolean;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The service user and the groups it is in, from the root's /etc/passwd and /etc/group. */
export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
  /** Every group the user is in, primary included, by name. */
  groups: Set<string>;
  /** Gids of those groups. */
  gids: Set<number>;
}

const COMMAND_TIMEOUT_MS = 10_000;

export function createMachine(root = process.env.HEDGEROW_ROOT || '/'): Machine {
  return {
    root,
    path: (absolute) => (root === '/' ? absolute : join(root, absolute)),
    run: (command, args) =>
      new Promise((resolve) => {
        execFile(command, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
          const code: unknown = (error as { code?: unknown } | null)?.code;
          if (code === 'ENOENT') return resolve(null);
          resolve({ code: error === null ? 0 : typeof code === 'number' ? code : 1, stdout, stderr });
        });
      }),
    systemd: existsSync(join(root, 'run/systemd/system')),
    isRoot: process.getuid?.() === 0,
  };
}

/** The user from the machine's /etc/passwd and /etc/group, or null when there is no such user. */
export function lookUpUser(machine: Machine, name: string): UserInfo | null {
  const passwd = readLines(machine.path('/etc/passwd'));
  const entry = passwd.map((line) => line.split(':')).find((fields) => fields[0] === name);
  if (!entry) return null;
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  const groups = new Set<string>();
  const gids = new Set<number>([gid]);
  for (const [group, , id, members] of groupEntries(machine)) {
    if (Number(id) === gid || (members ?? '').split(',').includes(name)) {
      groups.add(group!);
      gids.add(Number(id));
    }
  }
  return { name, uid, gid, groups, gids };
}

/** The names of the groups that exist on the machine. */
export function groupNames(machine: Machine): Set<string> {
  return new Set(groupEntries(machine).map((fields) => fields[0]!));
}

function groupEntries(machine: Machine): string[][] {
  return readLines(machine.path('/etc/group')).map((line) => line.split(':'));
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
  } catch {
    return [];
  }
}

/**
 * Whether `user` may read or write `path` by its owner, group and mode bits. doctor usually runs as root,
 * which may open anything, so the service user's access has to be worked out rather than tried.
 */
export function userMay(user: UserInfo, stats: Stats, want: 'r' | 'w'): boolean {
  // Writing into a folder also needs its search (x) bit.
  const bit = want === 'r' ? 4 : stats.isDirectory() ? 3 : 2;
  if (user.uid === 0) return true;
  const has = (shift: number) => ((stats.mode >> shift) & bit) === bit;
  if (stats.uid === user.uid) return has(6);
  if (user.gids.has(stats.gid)) return has(3);
  return has(0);
}

/** stat, or null when the path does not exist or cannot be looked at. */
export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** "0644". */
export function modeString(stats: Stats): string {
  return `0${(stats.mode & 0o777).toString(8).padStart(3, '0')}`;
}
