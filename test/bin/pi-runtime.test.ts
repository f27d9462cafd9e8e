import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Extension } from '../../hardware/core/extension.ts';
import { piExtensions, type PiSettings } from '../../bin/pi-runtime.ts';
import { hedgerowSettings } from '../../bin/hedgerow-settings.ts';

const log = pino({ level: 'silent' });
const settings: PiSettings = hedgerowSettings.parse({ station: { id: 'st-1' } });
const names = (extensions: Extension[]) => extensions.map((e) => e.name);

describe('piExtensions: what a Pi process runs, in start order', () => {
  it('opens the outbox first (closed last), then broker, subscribers, uplink, and the producers last', () => {
    const cloud: Extension = { name: 'cloud', start: async () => {}, stop: async () => {} };
    const all = piExtensions(settings, log, { station: true, uplink: true, broker: true, afterBroker: [cloud], museum: true });
    expect(names(all)).toEqual(['outbox', 'broker', 'cloud', 'uplink', 'station', 'weather-control', 'museum', 'collection-follower']);
  });

  it('runs each command\'s parts only', () => {
    // A station that sends takes virtual weather changes from the same broker (nothing on real hardware).
    expect(names(piExtensions(settings, log, { station: true, uplink: true, broker: false }))).toEqual(['outbox', 'uplink', 'station', 'weather-control']);
    expect(names(piExtensions(settings, log, { station: true, uplink: false, broker: false }))).toEqual(['outbox', 'station']);
    expect(names(piExtensions(settings, log, { station: false, uplink: true, broker: false }))).toEqual(['outbox', 'uplink']);
    expect(names(piExtensions(settings, log, { station: false, uplink: true, broker: false, museum: true }))).toEqual(['outbox', 'uplink', 'museum', 'collection-follower']);
  });

  it('honours uplink.enabled: false even where the command would send', () => {
    const off: PiSettings = hedgerowSettings.parse({ uplink: { enabled: false } });
    expect(names(piExtensions(off, log, { station: true, uplink: true, broker: false }))).toEqual(['outbox', 'station']);
  });
});
