import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseSettings, readConfigFile } from '../../hardware/core/config-file.ts';
import { hardwareSettings, stationSettings } from '../../device/settings.ts';
import { ARGENT_KMH_PER_HZ, WEATHER_HAT_KMH_PER_HZ } from '../../hardware/anemometer.ts';

const schema = z.object({ station: stationSettings.prefault({}), hardware: hardwareSettings.prefault({}) }).strict();

function problems(raw: unknown): string[] {
  try {
    parseSettings(schema, raw, 'hedgerow.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('station settings', () => {
  it('has a default for everything', () => {
    const s = parseSettings(schema, {}, 'defaults');
    expect(s.station.interval).toBe(300_000);
    expect(s.station.build).toBe('auto');
    expect(s.hardware.mode).toBe('auto');
    expect(s.hardware.bme280Address).toBe('auto');
    expect(s.hardware.gpio.anemometerPin).toBe(5);
    expect(s.hardware.gpio.rainDebounceMs).toBe(300);
    expect(s.station.id).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('reads durations and hex addresses the way people write them', () => {
    const s = parseSettings(schema, { station: { interval: '2s' }, hardware: { bme280Address: '0x77', windVaneAddress: 0x69 } }, 't');
    expect(s.station.interval).toBe(2000);
    expect(s.hardware.bme280Address).toBe(0x77);
    expect(parseSettings(schema, { station: { interval: 60 } }, 't').station.interval).toBe(60_000);
  });

  it('names the key, the bad value and what is allowed', () => {
    const found = problems({ hardware: { mode: 'pi', gpio: { rainPin: 99 } }, station: { id: 'my station/1' } });
    expect(found).toHaveLength(3);
    expect(found.find((p) => p.startsWith('hardware.mode:'))).toMatch(/auto.*real.*virtual.*\(got "pi"\)/);
    expect(found.find((p) => p.startsWith('hardware.gpio.rainPin:'))).toMatch(/53.*\(got 99\)/);
    expect(found.find((p) => p.startsWith('station.id:'))).toMatch(/letters, digits.*\(got "my station\/1"\)/);
  });

  it('says what a duration must be when it is zero, negative or not a duration, never just "Invalid input"', () => {
    expect(problems({ station: { interval: 0 } })[0]).toMatch(/^station.interval: a duration must be more than 0 s, e.g. 300 or "5m" \(got 0\)/);
    expect(problems({ station: { interval: -5 } })[0]).toMatch(/more than 0 s/);
    expect(problems({ station: { interval: true } })[0]).toMatch(/^station.interval: expected seconds, or a number with ms, s, m or h/);
    for (const found of [problems({ station: { interval: 0 } }), problems({ station: { interval: true } })]) expect(found.join()).not.toMatch(/Invalid input/);
  });

  it('takes the anemometer factor per kit: the Weather HAT kit by default, any other when set', () => {
    expect(parseSettings(schema, {}, 't').hardware.gpio.anemometerKmhPerHz).toBe(WEATHER_HAT_KMH_PER_HZ);
    expect(WEATHER_HAT_KMH_PER_HZ).toBeCloseTo(1.2, 2);
    expect(parseSettings(schema, { hardware: { gpio: { anemometerKmhPerHz: ARGENT_KMH_PER_HZ } } }, 't').hardware.gpio.anemometerKmhPerHz).toBe(2.4);
    for (const bad of [0, -2.4, 1000]) {
      expect(problems({ hardware: { gpio: { anemometerKmhPerHz: bad } } })).toEqual([
        `hardware.gpio.anemometerKmhPerHz: km/h for one anemometer closure per second, more than 0: 1.2 for the Weather HAT kit, 2.4 for SparkFun's (Argent) kit (got ${bad})`,
      ]);
    }
  });

  it('rejects unknown keys so a typo is not silently ignored', () => {
    expect(problems({ station: { intervall: 60 } })[0]).toMatch(/^station: .*intervall/);
  });

  it('rejects an interval below one second and a bad unit', () => {
    expect(problems({ station: { interval: '500ms' } })[0]).toMatch(/^station.interval: .*at least 1 s/);
    expect(problems({ station: { interval: '5 minutes' } })[0]).toMatch(/^station.interval: expected seconds/);
  });

  it('reads YAML and JSON files, and says where a file is broken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-config-'));
    writeFileSync(join(dir, 'a.yaml'), 'station:\n  id: north-field\n  interval: 10s\n');
    writeFileSync(join(dir, 'b.json'), '{"hardware": {"mode": "virtual"}}');
    writeFileSync(join(dir, 'bad.yaml'), 'station:\n  id: [unclosed\n');
    expect(parseSettings(schema, readConfigFile(join(dir, 'a.yaml')), 'a').station.id).toBe('north-field');
    expect(parseSettings(schema, readConfigFile(join(dir, 'b.json')), 'b').hardware.mode).toBe('virtual');
    expect(() => readConfigFile(join(dir, 'bad.yaml'))).toThrow(/not valid YAML\/JSON at line \d+/);
    expect(() => readConfigFile(join(dir, 'nope.yaml'))).toThrow(/ENOENT.*check the path/);
  });
});
