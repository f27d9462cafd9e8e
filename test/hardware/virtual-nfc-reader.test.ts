import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { TagInfo, TagRemoved } from '../../hardware/nfc-reader.ts';
import { VIRTUAL_READER_NAME, VirtualNfcReader } from '../../hardware/virtual-nfc-reader.ts';
import { ManualClock } from './manual-clock.ts';

const log = pino({ level: 'silent' });

describe('VirtualNfcReader', () => {
  it('taps its tags in turn, each for the hold time', async () => {
    const clock = new ManualClock(0);
    const reader = new VirtualNfcReader({
      log,
      clock,
      tags: [{ uid: '04AABBCCDDEE01' }, { uid: '04aabbccddee02', texts: ['{"id":"7"}'] }],
      tapEveryMs: 10_000,
      holdMs: 2000,
    });
    const events: string[] = [];
    const tags: TagInfo[] = [];
    reader.on('attached', (name) => events.push(`attached ${name}`));
    reader.on('tag', (tag) => {
      tags.push(tag);
      events.push(`tag ${tag.uid} @${clock.now()}`);
    });
    reader.on('removed', (tag: TagRemoved) => events.push(`removed ${tag.uid} @${clock.now()}`));
    await reader.start();
    clock.advance(10_000);
    clock.advance(2000);
    await Promise.resolve();
    clock.advance(8000);
    clock.advance(2000);
    await Promise.resolve();
    expect(events).toEqual([
      `attached ${VIRTUAL_READER_NAME}`,
      'tag 04aabbccddee01 @10000',
      'removed 04aabbccddee01 @12000',
      'tag 04aabbccddee02 @20000',
      'removed 04aabbccddee02 @22000',
    ]);
    expect(await tags[1]!.ndefTexts()).toEqual(['{"id":"7"}']);
    await reader.stop();
  });

  it('lets a test place and remove tags by hand, and records LED states', async () => {
    const reader = new VirtualNfcReader({ log });
    const seen: string[] = [];
    reader.on('tag', (t) => seen.push(`+${t.uid}`));
    reader.on('removed', (t) => seen.push(`-${t.uid}`));
    await reader.start();
    reader.place({ uid: '04000000000001' });
    reader.place({ uid: '04000000000002', kind: 'iso14443-4' });
    reader.remove();
    reader.setLed('playing');
    await reader.stop();
    expect(seen).toEqual(['+04000000000001', '-04000000000001', '+04000000000002', '-04000000000002']);
    expect(reader.ledStates).toEqual(['playing']);
    expect(() => reader.place({ uid: '04000000000003' })).toThrow(/not started/);
  });
});
