/**
 * Replaces a file so that a power cut at any moment leaves either the old file or the new one, never
 * a torn mix: write a temporary file beside it, fsync it, rename it over the old one, fsync the folder
 * (the rename itself lives in the folder's metadata).
 */
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const file = await open(temporary, 'wx');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await fsyncPath(dirname(path));
}

/** fsync on a file or folder by path: it applies to the file, whichever descriptor asks. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
