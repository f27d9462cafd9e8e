import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudStore } from '../storage/cloud-store.ts';

/**
 * The secret that signs nextTokens, kept in the engine's store (CloudStore.secret): a client paging
 * across a restart keeps its place, and every engine on one store accepts the others' tokens. The
 * first engine to start stores one; the others read it back. An older Hedgerow kept it in the data
 * folder's token-key file: that key is stored instead of a new one, so open tokens keep working.
 */

/** The file an older Hedgerow kept the key in (cloud.dataDir); read to adopt it, never written. */
export const TOKEN_KEY_FILE = 'token-key';
/** Its name among the store's secrets. */
export const TOKEN_KEY_SECRET = 'token-key';
const KEY_BYTES = 32;
const KEY_HEX = /^[0-9a-f]{64}$/;

/** Used when no engine has set a key (a token then lasts as long as the process). */
export const PROCESS_TOKEN_KEY = randomBytes(KEY_BYTES);

/** The store's token key, stored first when missing: the data folder's old key file if there is one, else a new random key. */
export async function storedTokenKey(store: Pick<CloudStore, 'secret'>, dataDir: string): Promise<Buffer> {
  const file = join(dataDir, TOKEN_KEY_FILE);
  const candidate = readKeyFile(file) ?? randomBytes(KEY_BYTES).toString('hex');
  const stored = await store.secret(TOKEN_KEY_SECRET, candidate);
  if (!KEY_HEX.test(stored)) {
    throw new Error(`the store's token key (secret ${TOKEN_KEY_SECRET}) is not 64 hex digits; delete that row from the secrets table and restart to make a new one (open nextTokens then stop working).`);
  }
  return Buffer.from(stored, 'hex');
}

function readKeyFile(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!KEY_HEX.test(text)) {
    throw new Error(`${file} does not hold a token key (64 hex digits); delete it and restart to make a new one (open nextTokens then stop working).`);
  }
  return text;
}
