import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadedPn533Modules, noReaderMessage, pcscdAnswers, pcscdSocketPath } from '../../hardware/nfc-diagnostics.ts';

const dir = mkdtempSync(join(tmpdir(), 'hedgerow-diag-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('why there is no NFC reader', () => {
  it('spots the pn533 modules that hold an ACR122U and says how to blacklist them', async () => {
    const modules = join(dir, 'modules');
    writeFileSync(modules, 'pn533_usb 20480 0 - Live 0x0\npn533 40960 1 pn533_usb, Live 0x0\nnfc 118784 1 pn533, Live 0x0\nsnd 1 0 - Live 0x0\n');
    expect(await loadedPn533Modules(modules)).toEqual(['pn533_usb', 'pn533', 'nfc']);
    const message = await noReaderMessage(modules);
    expect(message).toMatch(/kernel modules pn533_usb, pn533, nfc are loaded and hold the ACR122U/);
    expect(message).toContain('blacklist pn533_usb');
    expect(message).toContain('sudo modprobe -r pn533_usb pn533 nfc');
  });

  it('still mentions the modules when none is loaded, and the plug', async () => {
    const modules = join(dir, 'clean');
    writeFileSync(modules, 'snd 1 0 - Live 0x0\n');
    const message = await noReaderMessage(modules);
    expect(message).toMatch(/is the reader plugged in/);
    expect(message).toMatch(/may hold it/);
  });

  it('finds pcscd through PCSCLITE_CSOCK_NAME and tells a dead socket from a live one', async () => {
    expect(pcscdSocketPath({ PCSCLITE_CSOCK_NAME: '/tmp/x.comm' })).toBe('/tmp/x.comm');
    expect(pcscdSocketPath({})).toBe('/run/pcscd/pcscd.comm');
    expect(await pcscdAnswers(join(dir, 'no-such.comm'))).toBe(false);
  });
});
