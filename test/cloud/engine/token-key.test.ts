import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeToken, encodeToken, useTokenKey } from '../../../cloud/engine/pagination.ts';
import { storedTokenKey, TOKEN_KEY_FILE } from '../../../cloud/engine/token-key.ts';
import { SqliteStore } from '../../../cloud/storage/sqlite-store.ts';

const dirs: string[] = [];
const releases: Array<() => void> = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-key-'));
  dirs.push(dir);
  return dir;
};
/** A real SQLite store in its own folder: the key is kept in it. */
async function storeIn(dir: string): Promise<SqliteStore> {
  const store = new SqliteStore(join(dir, 'store'));
  await store.open();
  stores.push(store);
  return store;
}
async function keyOf(dir: string): Promise<Buffer> {
  return storedTokenKey(await storeIn(dir), dir);
}

describe('token key', () => {
  it('is made once per store and read back unchanged, with no file in the data folder', async () => {
    const dir = tempDir();
    const store = await storeIn(dir);
    const first = await storedTokenKey(store, dir);
    expect(first).toHaveLength(32);
    expect((await storedTokenKey(store, dir)).equals(first)).toBe(true);
    expect(existsSync(join(dir, TOKEN_KEY_FILE))).toBe(false);
    expect((await keyOf(tempDir())).equals(first)).toBe(false);
  });

  it("adopts an older Hedgerow's token-key file, so the tokens it signed stay valid", async () => {
    const dir = tempDir();
    const old = 'ab'.repeat(32);
    writeFileSync(join(dir, TOKEN_KEY_FILE), `${old}\n`, { mode: 0o600 });
    expect((await keyOf(dir)).toString('hex')).toBe(old);
  });

  it('refuses a damaged key file with what to do, rather than making tokens no one can check', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, TOKEN_KEY_FILE), 'not a key\n');
    await expect(keyOf(dir)).rejects.toThrow(/does not hold a token key \(64 hex digits\); delete it and restart/);
  });
});

describe('nextToken signing', () => {
  it('round-trips under the same key, also in a later process that reads it from the store', async () => {
    const dir = tempDir();
    releases.push(useTokenKey(await keyOf(dir)));
    const token = encodeToken('channel_7');
    expect(decodeToken(token)).toBe('channel_7');
    releases.splice(0).forEach((release) => release());
    // Another key only: the token no longer verifies.
    releases.push(useTokenKey(await keyOf(tempDir())));
    expect(() => decodeToken(token)).toThrow('nextToken is not valid; pass the nextToken of the previous page unchanged.');
    releases.push(useTokenKey(await keyOf(dir)));
    expect(decodeToken(token)).toBe('channel_7');
  });

  it('refuses the old unsigned form, a changed name, and a changed or missing MAC', async () => {
    releases.push(useTokenKey(await keyOf(tempDir())));
    const token = encodeToken('b');
    const [body, mac] = token.split('.') as [string, string];
    const otherBody = Buffer.from(JSON.stringify({ after: 'a' })).toString('base64url');
    for (const forged of [otherBody, `${otherBody}.${mac}`, `${body}.`, `${body}.${Buffer.alloc(16).toString('base64url')}`, `.${mac}`, `${body}.${mac}x`]) {
      expect(() => decodeToken(forged), forged).toThrow(/nextToken is not valid/);
    }
  });
});
