import type { TimedReading } from '../dashboard/weather-source.ts';
import { alertId, type Alert, type AlertKind } from './alert-model.ts';
import type { AlertThresholds, Hysteresis } from './alert-settings.ts';

/**
 * The one alert logic: a station's records, in time order, start and end alerts. Pure (no I/O, no
 * clock): the engine feeds it records from its cursor and persists the state it returns.
 *
 * Hysteresis: an alert starts at its threshold but ends only once the value is `clearMargin` past it
 * and the alert has lasted `minHoldMinutes`, so a temperature wobbling around 0 °C is one frost alert.
 * A null value (missing sensor) is no evidence either way: it neither starts nor ends anything.
 */

export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;

export interface StationState {
  /** ts of the last record evaluated; the next evaluation reads records after it. */
  cursor: number;
  /** Rain records (ts, mm) of the last 24 hours, only those with rain: enough for both totals. */
  rain: Array<[number, number]>;
  active: Partial<Record<AlertKind, Alert>>;
}

export interface AlertChange {
  type: 'start' | 'end';
  alert: Alert;
}

export interface EvaluationRules {
  thresholds: AlertThresholds;
  hysteresis: Hysteresis;
  /** An alert starting before this (epoch ms) is history: stored, never notified. */
  notifyFrom: number;
}

export const emptyState = (): StationState => ({ cursor: 0, rain: [], active: {} });

function start(state: StationState, stationId: string, kind: AlertKind, at: number, value: number, threshold: number, rules: EvaluationRules, measure: Alert['measure'] = null): AlertChange {
  const alert: Alert = { id: alertId(stationId, kind, at), kind, stationId, startedAt: at, endedAt: null, value, threshold, worst: value, measure, notify: at >= rules.notifyFrom };
  state.active[kind] = alert;
  return { type: 'start', alert: { ...alert } };
}

function end(state: StationState, kind: AlertKind, at: number): AlertChange {
  const alert = { ...state.active[kind]!, endedAt: at };
  delete state.active[kind];
  return { type: 'end', alert };
}

const held = (alert: Alert, at: number, minutes: number) => at - alert.startedAt >= minutes * 60_000;

function frost(state: StationState, stationId: string, r: TimedReading, rules: EvaluationRules): AlertChange[] {
  const present = [r.values.ambient_temperature, r.values.ground_temperature].filter((v): v is number => v !== null);
  if (present.length === 0) return [];
  const coldest = Math.min(...present);
  const limit = rules.thresholds.frostAtOrBelowC;
  const active = state.active.frost;
  if (!active) return coldest <= limit ? [start(state, stationId, 'frost', r.ts, coldest, limit, rules)] : [];
  active.worst = Math.min(active.worst, coldest);
  const { clearMargin, minHoldMinutes } = rules.hysteresis.frost;
  return coldest > limit + clearMargin && held(active, r.ts, minHoldMinutes) ? [end(state, 'frost', r.ts)] : [];
}

function heavyRain(state: StationState, stationId: string, r: TimedReading, rules: EvaluationRules): AlertChange[] {
  const fell = r.values.rainfall;
  if (fell === null) return [];
  if (fell > 0) state.rain.push([r.ts, fell]);
  state.rain = state.rain.filter(([ts]) => ts > r.ts - DAY_MS);
  const day = state.rain.reduce((sum, [, mm]) => sum + mm, 0);
  const hour = state.rain.filter(([ts]) => ts > r.ts - HOUR_MS).reduce((sum, [, mm]) => sum + mm, 0);
  const { heavyRainMmPerHour: perHour, heavyRainMmPerDay: perDay } = rules.thresholds;
  const active = state.active['heavy-rain'];
  if (!active) {
    if (hour >= perHour) return [start(state, stationId, 'heavy-rain', r.ts, hour, perHour, rules, 'hour')];
    if (day >= perDay) return [start(state, stationId, 'heavy-rain', r.ts, day, perDay, rules, 'day')];
    return [];
  }
  active.worst = Math.max(active.worst, active.measure === 'day' ? day : hour);
  const { clearMargin, minHoldMinutes } = rules.hysteresis.heavyRain;
  const eased = hour < perHour - clearMargin && day < perDay - clearMargin;
  return eased && held(active, r.ts, minHoldMinutes) ? [end(state, 'heavy-rain', r.ts)] : [];
}

function highWind(state: StationState, stationId: string, r: TimedReading, rules: EvaluationRules): AlertChange[] {
  const gust = r.values.wind_gust_speed;
  if (gust === null) return [];
  const limit = rules.thresholds.highGustKmh;
  const active = state.active['high-wind'];
  if (!active) return gust >= limit ? [start(state, stationId, 'high-wind', r.ts, gust, limit, rules)] : [];
  active.worst = Math.max(active.worst, gust);
  const { clearMargin, minHoldMinutes } = rules.hysteresis.highWind;
  return gust < limit - clearMargin && held(active, r.ts, minHoldMinutes) ? [end(state, 'high-wind', r.ts)] : [];
}

/**
 * A silence longer than the offline limit: starts the offline alert at the moment the limit passed.
 * `now` is the evaluation time, or the ts of a record that follows a gap in the history.
 */
export function checkSilence(state: StationState, stationId: string, now: number, rules: EvaluationRules): AlertChange[] {
  const limitMs = rules.thresholds.offlineMinutes * 60_000;
  const active = state.active.offline;
  if (state.cursor === 0) return [];
  const silentMinutes = (now - state.cursor) / 60_000;
  if (active) {
    active.worst = Math.max(active.worst, silentMinutes, active.value);
    return [];
  }
  if (now - state.cursor <= limitMs) return [];
  const change = start(state, stationId, 'offline', state.cursor + limitMs, rules.thresholds.offlineMinutes, rules.thresholds.offlineMinutes, rules);
  change.alert.worst = state.active.offline!.worst = silentMinutes;
  return [change];
}

/** One record, after the state's cursor: the alerts it starts and ends, in order. */
export function evaluateRecord(state: StationState, stationId: string, r: TimedReading, rules: EvaluationRules): AlertChange[] {
  const changes = checkSilence(state, stationId, r.ts, rules);
  // A backlog after an uplink outage brings records older than the offline alert's start: it ends when
  // they arrive, never before it began.
  const offline = state.active.offline;
  if (offline) changes.push(end(state, 'offline', Math.max(r.ts, offline.startedAt)));
  state.cursor = r.ts;
  changes.push(...frost(state, stationId, r, rules), ...heavyRain(state, stationId, r, rules), ...highWind(state, stationId, r, rules));
  return changes;
}
