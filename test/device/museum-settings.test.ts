import { describe, expect, it } from 'vitest';
import { parseSettings, ConfigError } from '../../hardware/core/config-file.ts';
import { museumSettings } from '../../device/museum-settings.ts';

describe('museum settings', () => {
  it('has a default for everything', () => {
    const settings = museumSettings.parse({});
    expect(settings).toMatchObject({
      enabled: false,
      collection: 'data/collections/demo',
      demo: true,
      retapWindow: 3000,
      onRemove: 'finish',
      reader: { mode: 'auto', buzzer: false, led: true, virtualTapEvery: 20_000, virtualHold: 3000 },
      audio: { mode: 'auto', device: 'default', mixer: 'PCM', players: {}, volume: 80, volumeStep: 10 },
    });
    expect(settings.boxId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it('takes durations with units and player command lines', () => {
    const settings = museumSettings.parse({ retapWindow: '1.5s', reader: { virtualTapEvery: '1m' }, audio: { players: { ogg: ['play', '-q'] }, mixer: null } });
    expect(settings.retapWindow).toBe(1500);
    expect(settings.reader.virtualTapEvery).toBe(60_000);
    expect(settings.audio.players).toEqual({ ogg: ['play', '-q'] });
    expect(settings.audio.mixer).toBeNull();
  });

  it('names the key, the value and what is allowed', () => {
    const error = (() => {
      try {
        parseSettings(museumSettings, { boxId: 'box/1', onRemove: 'pause', audio: { players: { '.OGG': ['play'] } } }, 'museum');
      } catch (thrown) {
        return thrown;
      }
      throw new Error('the settings parsed');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'boxId: use 1-64 letters, digits, "-" or "_" (it becomes an MQTT topic level) (got "box/1")',
      expect.stringMatching(/^onRemove: .*"finish".*"stop".* \(got "pause"\)$/),
      expect.stringMatching(/^audio\.players\.\.OGG: use a lower-case file extension without the dot/),
    ]);
  });

  it('has the exchange defaults the engine has, and wants both keys or neither', () => {
    expect(museumSettings.parse({}).exchange).toEqual({ region: 'eu-west-1', follow: { intervalSeconds: 3600 } });
    const problems = (() => {
      try {
        parseSettings(museumSettings, { exchange: { endpoint: 'school-server', accessKeyId: 'AKID1', follow: { intervalSeconds: 5 } } }, 'museum');
      } catch (thrown) {
        return (thrown as ConfigError).problems;
      }
      throw new Error('the settings parsed');
    })();
    expect(problems).toEqual([
      'exchange.endpoint: give the engine\'s API URL, e.g. http://school-server:8780 (got "school-server")',
      'exchange.follow.intervalSeconds: ask at most every 10 s (got 5)',
      expect.stringMatching(/^exchange: give both accessKeyId and secretAccessKey, or neither/),
    ]);
    expect(() => parseSettings(museumSettings, { exchange: { accessKeyId: 'AKID1' } }, 'museum')).toThrow(/give both accessKeyId and secretAccessKey, or neither/);
  });
});
