import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecretFileOnce } from './secret-file.ts';

/**
 * The secret that signs nextTokens, kept in the data folder: a client paging across a restart keeps
 * its place, and several API workers sharing one data folder accept each other's tokens. The first
 * worker to start creates it; the others read the same file.
 */

export const TOKEN_KEY_FILE = 'token-key';
const KEY_BYTES = 32;
const KEY_HEX = /^[0-9a-f]{64}$/;

/** Used when no engine has set a key (a token then lasts as long as the process). */
export const PROCESS_TOKEN_KEY = randomBytes(KEY_BYTES);

/** The data folder's token key, created (mode 0600) when missing. */
export function loadTokenKey(dataDir: string): Buffer {
  const file = join(dataDir, TOKEN_KEY_FILE);
  const existing = readKey(file);
  if (existing) return existing;
  createSecretFileOnce(file, `${randomBytes(KEY_BYTES).toString('hex')}\n`);
  const key = readKey(file);
  if (!key) throw new Error(badKeyFile(file));
  return key;
}

function readKey(file: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!KEY_HEX.test(text)) throw new Error(badKeyFile(file));
  return Buffer.from(text, 'hex');
}

function badKeyFile(file: string): string {
  return `${file} does not hold a token key (64 hex digits); delete it and restart to make a new one (open nextTokens then stop working).`;
}
