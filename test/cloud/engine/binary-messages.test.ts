import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { BinaryRefusals, isBinaryMessage, messageOfPayload, NOT_DECODED, payloadOfMessage, REFUSAL_WARN_INTERVAL_MS } from '../../../cloud/engine/binary-messages.ts';
import { runSteps } from '../../../cloud/engine/activities/compile-activity.ts';
import type { ActivityStep } from '../../../cloud/engine/activities/step.ts';

describe('binary messages', () => {
  it('turns anything but a JSON object into a binary message holding the bytes as sent', () => {
    for (const bytes of [Buffer.from([0xff, 0x00, 0x80]), Buffer.from('[1]'), Buffer.from('42'), Buffer.from('"text"'), Buffer.from('null')]) {
      const parsed = messageOfPayload(bytes, 1024);
      expect('value' in parsed && isBinaryMessage(parsed.value), bytes.toString('hex')).toBe(true);
      expect('value' in parsed && payloadOfMessage(parsed.value).equals(bytes)).toBe(true);
    }
    expect(messageOfPayload(Buffer.from('{"t":1}'), 1024)).toEqual({ value: { t: 1 } });
    expect(messageOfPayload(Buffer.from('{"payload":"x"}'), 1024)).toEqual({ value: { payload: 'x' } });
    expect(messageOfPayload(Buffer.from('{"bad-name":1}'), 1024)).toMatchObject({ problem: expect.stringMatching(/not valid/) });
    expect(messageOfPayload(Buffer.alloc(0), 1024)).toEqual({ problem: 'the payload is empty' });
    expect(messageOfPayload(Buffer.alloc(2000, 1), 1024)).toMatchObject({ problem: expect.stringMatching(/limit is 1024/) });
  });

  it('keeps binary messages from every step but lambda, and from the datastore, reporting each refusal', async () => {
    const seen: Record<string, unknown>[][] = [];
    const plain: ActivityStep = { name: 'plain', run: (batch) => (seen.push(batch), batch) };
    const lambda: ActivityStep = { name: 'decoder', takesBinary: true, run: (batch) => batch.map((m) => (isBinaryMessage(m) ? { decoded: (m.payload as Uint8Array)[0] } : m)) };
    const refused: Array<[string, number]> = [];
    const batch = () => [{ payload: Buffer.from([7]) }, { t: 1 }];
    expect(await runSteps([plain], batch(), (a, n) => refused.push([a, n]))).toEqual([{ t: 1 }]);
    expect(seen[0]).toEqual([{ t: 1 }]);
    expect(await runSteps([lambda, plain], batch(), (a, n) => refused.push([a, n]))).toEqual([{ decoded: 7 }, { t: 1 }]);
    const passThrough: ActivityStep = { name: 'nothing', takesBinary: true, run: (b) => b };
    expect(await runSteps([passThrough], batch(), (a, n) => refused.push([a, n]))).toEqual([{ t: 1 }]);
    expect(refused).toEqual([['plain', 1], ['datastore', 1]]);
  });

  it('logs at most one warning per pipeline per interval, carrying the count of the quiet ones', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    let now = 1_000_000;
    const refusals = new BinaryRefusals(log, () => now);
    const a = refusals.sinkFor('pipe_a');
    a('filter', 2);
    a('filter', 3);
    refusals.sinkFor('pipe_b')('datastore', 1);
    now += REFUSAL_WARN_INTERVAL_MS;
    a('math', 4);
    expect(lines.map((l) => [l.pipeline, l.activity, l.refused, l.refusedSinceStart])).toEqual([
      ['pipe_a', 'filter', 2, 2],
      ['pipe_b', 'datastore', 1, 1],
      ['pipe_a', 'math', 7, 9],
    ]);
    expect(lines[0]!.reason).toBe(NOT_DECODED);
    expect(refusals.count('PIPE_A')).toBe(9);
  });
});
