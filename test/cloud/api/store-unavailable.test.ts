import { describe, expect, it } from 'vitest';
import { errorOf, recordingEngine, signedInject, testApp } from './helpers.ts';

const batch = { channelName: 'weather_channel', messages: [{ messageId: 'm1', payload: Buffer.from('{"t":1}').toString('base64') }] };

/** What a client is told when the engine's database fails under a request. */
describe('a store failure under an API request', () => {
  it.each([
    ['PostgreSQL restarting', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a lost PostgreSQL connection', new Error('Connection terminated unexpectedly')],
    ['SQLite busy past its timeout', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })],
  ])('answers 503 ServiceUnavailableException, retry shortly, for %s', async (_, thrown) => {
    const { engine } = recordingEngine({
      batchPutMessage: () => {
        throw thrown;
      },
    });
    const { app, clock } = await testApp(engine);
    try {
      const answer = errorOf(await signedInject(app, clock.now, { method: 'POST', url: '/messages/batch', body: batch }));
      expect(answer).toEqual({ type: 'ServiceUnavailableException', status: 503, message: expect.stringMatching(/database is unavailable for the moment .*retry shortly/) });
      // The driver's words stay in the log.
      expect(answer.message).not.toContain(thrown.message);
    } finally {
      await app.close();
    }
  });

  it('answers 500 InternalFailureException for a failure retrying would not fix', async () => {
    const { engine } = recordingEngine({
      batchPutMessage: () => {
        throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
      },
    });
    const { app, clock } = await testApp(engine);
    try {
      const answer = errorOf(await signedInject(app, clock.now, { method: 'POST', url: '/messages/batch', body: batch }));
      expect([answer.type, answer.status]).toEqual(['InternalFailureException', 500]);
    } finally {
      await app.close();
    }
  });
});
