import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeToken, encodeToken, useTokenKey } from '../../../cloud/engine/pagination.ts';
import { loadTokenKey, TOKEN_KEY_FILE } from '../../../cloud/engine/token-key.ts';

const dirs: string[] = [];
const releases: Array<() => void> = [];
afterEach(() => {
  for (const release of releases.splice(0)) release();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-key-'));
  dirs.push(dir);
  return dir;
};

describe('token key', () => {
  it('is made once per data folder, kept private, and read back unchanged', () => {
    const dir = join(tempDir(), 'nested', 'cloud');
    const first = loadTokenKey(dir);
    expect(first).toHaveLength(32);
    expect(loadTokenKey(dir).equals(first)).toBe(true);
    expect(statSync(join(dir, TOKEN_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, TOKEN_KEY_FILE), 'utf8').trim()).toBe(first.toString('hex'));
    expect(loadTokenKey(tempDir()).equals(first)).toBe(false);
  });

  it('refuses a damaged key file with what to do, rather than making tokens no one can check', () => {
    const dir = tempDir();
    writeFileSync(join(dir, TOKEN_KEY_FILE), 'not a key\n');
    expect(() => loadTokenKey(dir)).toThrow(/does not hold a token key \(64 hex digits\); delete it and restart/);
  });
});

describe('nextToken signing', () => {
  it('round-trips under the same key, also in a later process that loads it from the folder', () => {
    const dir = tempDir();
    releases.push(useTokenKey(loadTokenKey(dir)));
    const token = encodeToken('channel_7');
    expect(decodeToken(token)).toBe('channel_7');
    releases.splice(0).forEach((release) => release());
    // Another key only: the token no longer verifies.
    releases.push(useTokenKey(loadTokenKey(tempDir())));
    expect(() => decodeToken(token)).toThrow('nextToken is not valid; pass the nextToken of the previous page unchanged.');
    releases.push(useTokenKey(loadTokenKey(dir)));
    expect(decodeToken(token)).toBe('channel_7');
  });

  it('refuses the old unsigned form, a changed name, and a changed or missing MAC', () => {
    releases.push(useTokenKey(loadTokenKey(tempDir())));
    const token = encodeToken('b');
    const [body, mac] = token.split('.') as [string, string];
    const otherBody = Buffer.from(JSON.stringify({ after: 'a' })).toString('base64url');
    for (const forged of [otherBody, `${otherBody}.${mac}`, `${body}.`, `${body}.${Buffer.alloc(16).toString('base64url')}`, `.${mac}`, `${body}.${mac}x`]) {
      expect(() => decodeToken(forged), forged).toThrow(/nextToken is not valid/);
    }
  });
});
