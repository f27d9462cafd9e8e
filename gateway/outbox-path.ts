import { closeSync, constants, accessSync, mkdirSync, openSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Kernel filesystems: nothing written there survives, and Node's recursive mkdir under /proc loops
 * forever at 100% CPU (mkdir answers ENOENT for ever), so they are refused before any mkdir.
 */
const KERNEL_FOLDERS = ['/proc', '/sys', '/dev'];

const FIX = 'set outbox.path (or dataDir) to a file in a folder the station can write, e.g. /var/lib/hedgerow/outbox.db';

/** A bad `outbox.path`: the message names the key and the fix, for the operator. */
export class OutboxPathError extends Error {
  readonly code = 'OUTBOX_PATH';
  constructor(path: string, problem: string) {
    super(`outbox.path ${path}: ${problem}: ${FIX}`);
  }
}

/**
 * Checks the outbox file's folder before SQLite sees it: it must exist or be creatable (made here,
 * one level at a time), not be on a kernel filesystem, and be writable (a probe file is created and
 * removed, which also catches a read-only mount). An existing outbox file must be a writable file.
 */
export function prepareOutboxFolder(path: string): void {
  const folder = dirname(path);
  const missing: string[] = [];
  let existing = folder;
  while (!exists(existing, path)) {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const real = realpathSync(existing);
  if (KERNEL_FOLDERS.some((kernel) => real === kernel || real.startsWith(`${kernel}/`))) {
    throw new OutboxPathError(path, `${real} is on a kernel filesystem (${KERNEL_FOLDERS.join(', ')}), where nothing can be kept`);
  }
  if (!statSync(existing).isDirectory()) throw new OutboxPathError(path, `${existing} is a file, not a folder`);
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      throw new OutboxPathError(path, `cannot create the folder ${level} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  const probe = join(folder, `.hedgerow-write-test-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (error) {
    throw new OutboxPathError(path, `the folder ${folder} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!exists(path, path)) return;
  if (!statSync(path).isFile()) throw new OutboxPathError(path, 'it is a folder or device, not a file');
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new OutboxPathError(path, `the file is not readable and writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function exists(target: string, outboxPath: string): boolean {
  try {
    statSync(target);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    const why = code === 'ENOTDIR' ? 'a part of it is a file, not a folder' : `cannot look at ${target} (${code ?? (error as Error).message})`;
    throw new OutboxPathError(outboxPath, why);
  }
}
