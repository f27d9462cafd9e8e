import type { AlertHistory } from '../alerts/alert-history.ts';
import { weatherAlert, type WeatherAlert } from './weather-alerts.ts';
import type { WeatherPageSettings } from './weather-page-settings.ts';
import type { LatestReading, ReadingBucket, WeatherSource } from './weather-source.ts';

/**
 * What the page shows per station, computed from the datastore: the latest reading and its age, the
 * last 24 hours in 15-minute slices (ending now, so the last four slices are exactly the last hour),
 * the day's extremes, and its alerts from the alert engine's store (active, and ended in the window), the
 * same alerts that were sent to ntfy, the webhook and MQTT.
 */

export const WINDOW_MS = 24 * 3600_000;
export const SLICE_MS = 15 * 60_000;
export const SLICES = WINDOW_MS / SLICE_MS;
const SLICES_PER_HOUR = 3600_000 / SLICE_MS;

/** Start of the window ending at `now` inclusive: a record stamped exactly now still falls in the last slice. */
export function windowStart(now: number): number {
  return now - WINDOW_MS + 1;
}

export interface DayExtremes {
  airMin: number | null;
  groundMin: number | null;
  /** Total rain in the window, mm; null when the station sent no rain figure at all. */
  rain: number | null;
  gustMax: number | null;
  /** Wettest hour of the window (four consecutive slices) and when it began. */
  wettestHour: { rain: number; start: number } | null;
  /** Epoch ms of the slices where the minimum air / ground temperature and the maximum gust happened. */
  airMinAt: number | null;
  groundMinAt: number | null;
  gustMaxAt: number | null;
}

export interface StationSummary {
  stationId: string;
  latest: LatestReading;
  ageMs: number;
  stale: boolean;
  /** Start of the 24-hour window (epoch ms); slice i covers [from + i·SLICE_MS, from + (i+1)·SLICE_MS). */
  from: number;
  slices: Array<ReadingBucket | undefined>;
  day: DayExtremes;
  rainLastHour: number | null;
  alerts: WeatherAlert[];
}

export interface WeatherSnapshot {
  now: number;
  stations: StationSummary[];
  /** Stations left off because they have been silent longer than hideAfterDays. */
  hidden: number;
}

function extreme(slices: ReadingBucket[], pick: (b: ReadingBucket) => number | null, better: (a: number, b: number) => boolean) {
  let best: { value: number; index: number } | null = null;
  for (const slice of slices) {
    const value = pick(slice);
    if (value !== null && (best === null || better(value, best.value))) best = { value, index: slice.index };
  }
  return best;
}

function sumOf(values: Array<number | null>): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0);
}

/** The 24-hour figures, from the slices of one station (pure: tests feed it slices directly). */
export function dayExtremes(slices: ReadingBucket[], from: number): DayExtremes {
  const at = (e: { index: number } | null) => (e === null ? null : from + e.index * SLICE_MS);
  const airMin = extreme(slices, (b) => b.airMin, (a, b) => a < b);
  const groundMin = extreme(slices, (b) => b.groundMin, (a, b) => a < b);
  const gustMax = extreme(slices, (b) => b.gustMax, (a, b) => a > b);
  // A rolling hour (four consecutive slices), so a downpour across a clock hour still counts whole.
  let wettestHour: DayExtremes['wettestHour'] = null;
  const rainAt = new Map(slices.map((s) => [s.index, s.rain]));
  for (const slice of slices) {
    const rain = sumOf(Array.from({ length: SLICES_PER_HOUR }, (_, k) => rainAt.get(slice.index + k) ?? null));
    if (rain !== null && (wettestHour === null || rain > wettestHour.rain)) wettestHour = { rain, start: from + slice.index * SLICE_MS };
  }
  return {
    airMin: airMin?.value ?? null,
    groundMin: groundMin?.value ?? null,
    rain: sumOf(slices.map((s) => s.rain)),
    gustMax: gustMax?.value ?? null,
    wettestHour,
    airMinAt: at(airMin),
    groundMinAt: at(groundMin),
    gustMaxAt: at(gustMax),
  };
}

export function summarize(latest: LatestReading, buckets: ReadingBucket[], now: number, settings: WeatherPageSettings, alerts: WeatherAlert[] = []): StationSummary {
  const from = windowStart(now);
  const slices: Array<ReadingBucket | undefined> = new Array<ReadingBucket | undefined>(SLICES).fill(undefined);
  for (const bucket of buckets) if (bucket.index >= 0 && bucket.index < SLICES) slices[bucket.index] = bucket;
  const present = slices.filter((s): s is ReadingBucket => s !== undefined);
  const day = dayExtremes(present, from);
  const rainLastHour = sumOf(present.filter((s) => s.index >= SLICES - SLICES_PER_HOUR).map((s) => s.rain));
  const ageMs = Math.max(0, now - latest.ts);
  const stale = ageMs > settings.staleAfterMinutes * 60_000;
  return { stationId: latest.stationId, latest, ageMs, stale, from, slices, day, rainLastHour, alerts };
}

/** Reads every station's figures from the source, and its alerts from the history (none without one). */
export async function readSnapshot(
  source: WeatherSource,
  settings: WeatherPageSettings,
  now: number,
  formatTime: (ms: number) => string,
  history?: AlertHistory,
): Promise<WeatherSnapshot> {
  const stations: StationSummary[] = [];
  let hidden = 0;
  for (const id of await source.stationIds(settings.maxStations)) {
    const latest = await source.latest(id);
    if (!latest) continue;
    if (now - latest.ts > settings.hideAfterDays * 86_400_000) {
      hidden += 1;
      continue;
    }
    const buckets = await source.buckets(id, windowStart(now), now + 1, SLICE_MS);
    const alerts = (await history?.recent(id, windowStart(now))) ?? [];
    stations.push(summarize(latest, buckets, now, settings, alerts.map((a) => weatherAlert(a, formatTime))));
  }
  return { now, stations, hidden };
}
