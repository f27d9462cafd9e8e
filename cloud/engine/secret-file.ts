import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates `file` (mode 0600) with `contents` unless it exists. The contents are written whole under a
 * temporary name and then linked into place: link fails if another process got there first, so nobody
 * ever reads a half-written secret and the first one made is the one every worker keeps.
 * Returns true when this call created the file.
 */
export function createSecretFileOnce(file: string, contents: string): boolean {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  writeFileSync(temporary, contents, { mode: 0o600 });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    unlinkSync(temporary);
  }
}
