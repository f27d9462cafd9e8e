import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { lanAddress, startLine } from '../../bin/start-line.ts';

const facts = { region: 'eu-west-1', credentialsAt: 'data/cloud/api-credentials.json' };
const nic = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) => ({ address, family, internal }) as NetworkInterfaceInfo;

describe('the start line', () => {
  it('names the page, the API and the keys on loopback', () => {
    expect(startLine({ ...facts, endpoint: 'http://127.0.0.1:8780' })).toBe(
      'hedgerow: running. Weather page http://127.0.0.1:8780/  API http://127.0.0.1:8780 (region eu-west-1)  API keys: data/cloud/api-credentials.json  Stop: Ctrl-C',
    );
  });

  it('bound to every interface, names the LAN address a phone can open, and localhost', () => {
    expect(startLine({ ...facts, endpoint: 'http://0.0.0.0:8780', lanAddress: '192.168.1.23' })).toBe(
      'hedgerow: running. Weather page http://192.168.1.23:8780/ (on this machine http://localhost:8780/)  API http://192.168.1.23:8780 (region eu-west-1)  API keys: data/cloud/api-credentials.json  Stop: Ctrl-C',
    );
    expect(startLine({ ...facts, endpoint: 'http://[::]:8780' })).toMatch(/Weather page http:\/\/localhost:8780\/ \(no network address found/);
  });

  it('takes the first non-internal IPv4 address', () => {
    expect(lanAddress({ lo: [nic('127.0.0.1', 'IPv4', true)], wlan0: [nic('fe80::1', 'IPv6', false), nic('192.168.1.23', 'IPv4', false)] })).toBe('192.168.1.23');
    expect(lanAddress({ lo: [nic('127.0.0.1', 'IPv4', true)] })).toBeUndefined();
  });
});
