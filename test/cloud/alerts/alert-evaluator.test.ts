import { describe, expect, it } from 'vitest';
import { checkSilence, emptyState, evaluateRecord, type AlertChange, type EvaluationRules, type StationState } from '../../../cloud/alerts/alert-evaluator.ts';
import { alertSettings, thresholdsFor } from '../../../cloud/alerts/alert-settings.ts';
import type { ReadingField, TimedReading } from '../../../cloud/dashboard/weather-source.ts';

const T0 = Date.UTC(2026, 11, 1, 0, 0);
const MIN = 60_000;
const calm: Record<ReadingField, number | null> = { ambient_temperature: 5, ground_temperature: 6, humidity: 80, air_pressure: 1010, wind_speed: 10, wind_gust_speed: 20, wind_direction: 180, rainfall: 0 };
const settings = alertSettings.parse({ stations: { hill_top: { highGustKmh: 90, frostAtOrBelowC: -2 } } });

function rules(stationId = 'field', notifyFrom = 0): EvaluationRules {
  return { thresholds: thresholdsFor(settings, stationId), hysteresis: settings.hysteresis, notifyFrom };
}

/** Feeds one record a minute, from T0, each with `values(i)` laid over a calm reading. */
function run(count: number, values: (i: number) => Partial<typeof calm>, stationId = 'field', state: StationState = emptyState()): { changes: AlertChange[]; state: StationState } {
  const changes: AlertChange[] = [];
  for (let i = 0; i < count; i++) {
    const record: TimedReading = { ts: T0 + i * MIN, values: { ...calm, ...values(i) } };
    changes.push(...evaluateRecord(state, stationId, record, rules(stationId)));
  }
  return { changes, state };
}

const summary = (changes: AlertChange[]) => changes.map((c) => `${c.alert.kind} ${c.type} @${(c.type === 'start' ? c.alert.startedAt : c.alert.endedAt! ) / MIN - T0 / MIN}`);

describe('alert evaluation', () => {
  it('gives one frost alert, not ten, for a temperature wobbling 0.1 °C around 0, and ends it above the clear margin', () => {
    // Two hours around 0 (±0.1), then a thaw to +0.9 (inside the 1 °C margin), then +1.5.
    const air = (i: number) => (i < 120 ? (i % 2 === 0 ? -0.1 : 0.1) : i < 150 ? 0.9 : 1.5);
    const { changes, state } = run(180, (i) => ({ ambient_temperature: air(i), ground_temperature: air(i) + 0.5 }));
    expect(summary(changes)).toEqual(['frost start @0', 'frost end @150']);
    expect(changes[1]!.alert).toMatchObject({ value: -0.1, threshold: 0, worst: -0.1, endedAt: T0 + 150 * MIN });
    expect(state.active.frost).toBeUndefined();
  });

  it('without hysteresis the same wobble would flap: the margin and hold are what stop it', () => {
    const flappy = alertSettings.parse({ hysteresis: { frost: { clearMargin: 0, minHoldMinutes: 0 } } });
    const state = emptyState();
    const changes: AlertChange[] = [];
    for (let i = 0; i < 20; i++) {
      const r = { thresholds: thresholdsFor(flappy, 'f'), hysteresis: flappy.hysteresis, notifyFrom: 0 };
      changes.push(...evaluateRecord(state, 'f', { ts: T0 + i * MIN, values: { ...calm, ambient_temperature: i % 2 === 0 ? -0.1 : 0.1 } }, r));
    }
    expect(changes.filter((c) => c.type === 'start')).toHaveLength(10);
  });

  it('holds an alert at least minHoldMinutes even when the value recovers at once', () => {
    const { changes } = run(30, (i) => ({ wind_gust_speed: i === 0 ? 70 : 10 }));
    expect(summary(changes)).toEqual(['high-wind start @0', 'high-wind end @15']);
  });

  it('uses a station\'s own thresholds where it has them', () => {
    const gusty = (i: number) => ({ wind_gust_speed: i < 10 ? 75 : 20, ambient_temperature: -1, ground_temperature: -1 });
    expect(summary(run(40, gusty, 'field').changes)).toEqual(['frost start @0', 'high-wind start @0', 'high-wind end @15']);
    // hill_top: gusts alert at 90, frost at -2: none of these.
    expect(run(40, gusty, 'hill_top').changes).toEqual([]);
  });

  it('raises heavy rain from an hour\'s total and from a day\'s, and says which', () => {
    // 0.25 mm a minute for an hour: 10 mm in the hour at minute 39 (40 records); 15 mm at most; the
    // hour's total falls below 10 - 2 mm once fewer than 32 of those minutes are in it (minute 88).
    const hour = run(200, (i) => ({ rainfall: i < 60 ? 0.25 : 0 })).changes;
    expect(summary(hour)).toEqual(['heavy-rain start @39', 'heavy-rain end @88']);
    expect(hour[0]!.alert).toMatchObject({ kind: 'heavy-rain', measure: 'hour', threshold: 10, value: 10 });
    expect(hour[1]!.alert.worst).toBe(15);
    // 2 mm an hour, steady: never 10 in an hour, but 25 in a day after 12.5 hours.
    const day = run(14 * 60, (i) => ({ rainfall: i % 30 === 0 ? 1 : 0 })).changes;
    expect(day).toHaveLength(1);
    expect(day[0]!.alert).toMatchObject({ measure: 'day', threshold: 25, startedAt: T0 + 24 * 30 * MIN });
  });

  it('treats a missing sensor as no evidence: no frost from null, and null does not end one', () => {
    expect(run(10, () => ({ ambient_temperature: null, ground_temperature: null })).changes).toEqual([]);
    const { changes } = run(60, (i) => ({ ambient_temperature: i < 5 ? -3 : null, ground_temperature: null }));
    expect(summary(changes)).toEqual(['frost start @0']);
  });

  it('starts offline when a station falls silent, and ends it with the next record; a gap in history is an offline alert too', () => {
    const { state } = run(10, () => ({}));
    const r = rules();
    expect(checkSilence(state, 'field', T0 + 9 * MIN + 30 * MIN, r)).toEqual([]);
    const [started] = checkSilence(state, 'field', T0 + 9 * MIN + 31 * MIN, r);
    expect(started).toMatchObject({ type: 'start', alert: { kind: 'offline', startedAt: T0 + 39 * MIN, threshold: 30, value: 30, worst: 31 } });
    expect(checkSilence(state, 'field', T0 + 60 * MIN, r)).toEqual([]);
    const back = evaluateRecord(state, 'field', { ts: T0 + 70 * MIN, values: calm }, r);
    expect(back.map((c) => [c.type, c.alert.kind, c.alert.endedAt, c.alert.worst])).toEqual([['end', 'offline', T0 + 70 * MIN, 61]]);
    // A two-hour gap found while catching up: one alert, started and ended.
    const gap = evaluateRecord(state, 'field', { ts: T0 + 190 * MIN, values: calm }, r);
    expect(gap.map((c) => `${c.type} ${c.alert.kind} ${(c.type === 'start' ? c.alert.startedAt : c.alert.endedAt!) - T0}`)).toEqual([`start offline ${100 * MIN}`, `end offline ${190 * MIN}`]);
  });

  it('ends an offline alert no earlier than it started when a backlog of older records arrives', () => {
    const { state } = run(10, () => ({}));
    const r = rules();
    checkSilence(state, 'field', T0 + 60 * MIN, r);
    // The station kept sampling; its uplink was down. Its next record is from minute 10.
    const [ended] = evaluateRecord(state, 'field', { ts: T0 + 10 * MIN, values: calm }, r);
    expect(ended).toMatchObject({ type: 'end', alert: { kind: 'offline', startedAt: T0 + 39 * MIN, endedAt: T0 + 39 * MIN, worst: 51 } });
  });

  it('marks an alert that started before the notify window as history', () => {
    const state = emptyState();
    const [old] = evaluateRecord(state, 'field', { ts: T0, values: { ...calm, ambient_temperature: -4 } }, { ...rules(), notifyFrom: T0 + 1 });
    expect(old!.alert.notify).toBe(false);
    const [recent] = evaluateRecord(emptyState(), 'field', { ts: T0, values: { ...calm, ambient_temperature: -4 } }, { ...rules(), notifyFrom: T0 });
    expect(recent!.alert.notify).toBe(true);
  });
});
