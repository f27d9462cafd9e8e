import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSecretFileOnce } from '../../../cloud/engine/secret-file.ts';

describe('createSecretFileOnce', () => {
  it('creates the file once, private, keeps the first contents, and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-secret-'));
    const file = join(dir, 'sub', 'secret');
    expect(createSecretFileOnce(file, 'first\n')).toBe(true);
    expect(createSecretFileOnce(file, 'second\n')).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('first\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['secret']);
  });
});
