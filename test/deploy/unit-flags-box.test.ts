// The museum box under its unit's node flags (deploy/install.sh's node_flags: --jitless --no-expose-wasm),
// from the compiled entry the unit runs (bin/hedgerow.js -> dist/). With WebAssembly off, a module that
// loads Node's fetch (undici) at import dies at start: pg does, so a static import of the PostgreSQL
// backend anywhere the box loads would fail here. The station's unit flags are checked the same way by
// install.test.ts ("runs a station with the unit's node flags"); the cloud unit keeps WebAssembly.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { writeWav } from '../fixtures/audio-files.ts';
import { unitSetting } from './helpers/unit-settings.ts';

describe('hedgerow box with the unit\'s node flags', () => {
  it('starts its reader and collection and stops cleanly on SIGTERM, with WebAssembly off and no warning', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-box-flags-'));
    const collection = join(dir, 'collection');
    mkdirSync(collection);
    writeWav(join(collection, 'bell.wav'));
    writeFileSync(join(collection, 'manifest.yaml'), 'objects:\n  - { uid: "04000000000e01", title: Bell, audio: bell.wav }\n');
    const config = join(dir, 'box.yaml');
    // An uplink that is never reachable (port 1): the box loads and starts its uplink as under its unit, and keeps the taps.
    const settings = { dataDir: join(dir, 'data'), uplink: { url: 'mqtt://127.0.0.1:1' }, museum: { boxId: 'flags-box', collection, demo: false, reader: { mode: 'virtual' }, audio: { mode: 'virtual' } } };
    writeFileSync(config, JSON.stringify(settings));
    const flags = unitSetting('.', 'node_flags').split(' ').filter(Boolean);
    const box = spawn(process.execPath, [...flags, 'bin/hedgerow.js', '--config', config, 'box'], {
      env: { ...process.env, NODE_OPTIONS: unitSetting('.', 'node_options') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    box.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    box.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => box.once('exit', (code, signal) => resolve({ code, signal })));
    // The hard timeout: whatever happens, the box does not outlive the test.
    const killer = setTimeout(() => box.kill('SIGKILL'), 110_000);
    try {
      // The first run may build dist/ first.
      const early = exited.then(({ code, signal }) => {
        throw new Error(`the box exited (${signal ?? code}) before it started:\n${stdout.slice(-2000)}${stderr.slice(-2000)}`);
      });
      await Promise.race([vi.waitFor(() => expect(stdout).toContain('museum box flags-box: collection'), { timeout: 90_000, interval: 200 }), early]);
      early.catch(() => undefined);
      expect(stdout).toContain('NFC reader attached');
      box.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      clearTimeout(killer);
      box.kill('SIGKILL');
    }
    expect(stdout).not.toMatch(/WebAssembly|ERROR/);
    expect(stderr).toBe('');
  });
});
