import { describe, expect, it } from 'vitest';
import { InFlight } from '../../hardware/in-flight.ts';

describe('InFlight', () => {
  it('holds commands until they settle, and settle() waits for them', async () => {
    const inFlight = new InFlight();
    let finish!: (value: string) => void;
    const command = inFlight.run(() => new Promise<string>((resolve) => (finish = resolve)));
    const failing = inFlight.run(async () => {
      throw new Error('no answer');
    });
    await expect(failing).rejects.toThrow('no answer');
    expect(inFlight.size).toBe(1);
    let settled = false;
    const waiting = inFlight.settle(10_000).then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    finish('90 00');
    await waiting;
    expect(await command).toBe('90 00');
    expect(inFlight.size).toBe(0);
  });

  it('turns a synchronous throw into a rejection and gives up waiting after the timeout', async () => {
    const inFlight = new InFlight();
    await expect(
      inFlight.run(() => {
        throw new Error('card not connected');
      }),
    ).rejects.toThrow('card not connected');
    void inFlight.run(() => new Promise(() => undefined));
    await inFlight.settle(5);
    expect(inFlight.size).toBe(1);
  });
});
