import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../bin/hedgerow-settings.ts';

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hedgerow-settings-')), 'hedgerow.yaml');
  writeFileSync(file, text);
  return file;
}

describe('dataDir moves the engine\'s files too', () => {
  it('puts the engine under <dataDir>/cloud when only dataDir is set (deploy.sh writes dataDir: /var/lib/hedgerow)', () => {
    const settings = loadSettings(configFile('dataDir: /var/lib/hedgerow\n'));
    expect(settings.cloud.dataDir).toBe('/var/lib/hedgerow/cloud');
  });

  it('keeps an explicit cloud.dataDir, and the default data/cloud with no dataDir', () => {
    expect(loadSettings(configFile('dataDir: /srv/a\ncloud:\n  dataDir: /srv/engine\n')).cloud.dataDir).toBe('/srv/engine');
    expect(loadSettings(undefined).cloud.dataDir).toBe('data/cloud');
  });

  it('follows a --data-dir override laid over the file', () => {
    expect(loadSettings(configFile('station:\n  id: a\n'), { dataDir: '/tmp/x', cloud: { dataDir: undefined } }).cloud.dataDir).toBe('/tmp/x/cloud');
  });
});
