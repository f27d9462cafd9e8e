import { describe, expect, it } from 'vitest';
import { alertsFor, type AlertInput } from '../../../cloud/dashboard/weather-alerts.ts';
import { compassPoint, escapeHtml, formatAge, formatNumber, timeFormat } from '../../../cloud/dashboard/weather-format.ts';
import { weatherPageSettings } from '../../../cloud/dashboard/weather-page-settings.ts';
import type { ReadingBucket, ReadingField } from '../../../cloud/dashboard/weather-source.ts';
import { dayExtremes, type DayExtremes, SLICE_MS, SLICES, summarize, windowStart } from '../../../cloud/dashboard/weather-summary.ts';

const defaults = weatherPageSettings.parse({});
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const NOW = Date.UTC(2026, 1, 10, 12, 0);

const calm: Record<ReadingField, number | null> = { ambient_temperature: 6, ground_temperature: 7, humidity: 80, air_pressure: 1010, wind_speed: 10, wind_gust_speed: 20, wind_direction: 180, rainfall: 0 };
const quietDay: DayExtremes = { airMin: 3, groundMin: 4, rain: 1, gustMax: 25, wettestHour: { rain: 0.5, start: NOW - 3600_000 }, airMinAt: NOW - 8 * 3600_000, groundMinAt: NOW - 8 * 3600_000, gustMaxAt: NOW - 3600_000 };

function input(over: Partial<AlertInput> = {}, latest: Partial<typeof calm> = {}, day: Partial<typeof quietDay> = {}): AlertInput {
  return { latest: { ...calm, ...latest }, day: { ...quietDay, ...day }, rainLastHour: 0.2, stale: false, ...over };
}

function slice(index: number, over: Partial<ReadingBucket> = {}): ReadingBucket {
  return { index, count: 1, airMin: 5, airMean: 6, groundMin: 6, groundMean: 7, rain: 0, windMean: 8, gustMax: 15, ...over };
}

describe('weather alerts', () => {
  it('raises nothing on a quiet day', () => {
    expect(alertsFor(input(), defaults, clock)).toEqual([]);
  });

  it('says "frost now" when the air or the ground is at or below the limit, naming both values', () => {
    const [air] = alertsFor(input({}, { ambient_temperature: 0 }), defaults, clock);
    expect(air).toMatchObject({ kind: 'frost', when: 'now', value: 0, headline: 'Frost now' });
    expect(air!.detail).toContain('air 0.0 °C, ground 7.0 °C');
    const [ground] = alertsFor(input({}, { ground_temperature: -1.24 }), defaults, clock);
    expect(ground).toMatchObject({ kind: 'frost', when: 'now', value: -1.24 });
    expect(ground!.detail).toContain('ground −1.2 °C');
    expect(alertsFor(input({}, { ambient_temperature: 0.1 }), defaults, clock)).toEqual([]);
  });

  it('says frost happened in the last 24 hours, with when, once it has thawed', () => {
    const [alert] = alertsFor(input({}, {}, { groundMin: -2, groundMinAt: Date.UTC(2026, 1, 10, 5, 30) }), defaults, clock);
    expect(alert).toMatchObject({ kind: 'frost', when: 'last24h', value: -2, headline: 'Frost in the last 24 hours' });
    expect(alert!.detail).toContain('ground down to −2.0 °C around 05:30');
    expect(alert!.detail).not.toContain('air down');
  });

  it('never treats a missing sensor as frost (null is not 0)', () => {
    expect(alertsFor(input({}, { ambient_temperature: null, ground_temperature: null }, { airMin: null, groundMin: null }), defaults, clock)).toEqual([]);
    const [alert] = alertsFor(input({}, { ambient_temperature: null, ground_temperature: -0.5 }), defaults, clock);
    expect(alert!.detail).toContain('Temperature now: ground −0.5 °C (');
  });

  it('raises heavy rain for the last hour, the wettest hour of the day, or the day total', () => {
    expect(alertsFor(input({ rainLastHour: 10 }), defaults, clock)[0]).toMatchObject({ kind: 'heavy-rain', when: 'now', value: 10, threshold: 10 });
    const hour = alertsFor(input({}, {}, { wettestHour: { rain: 12.5, start: Date.UTC(2026, 1, 10, 3, 15) }, rain: 14 }), defaults, clock)[0];
    expect(hour).toMatchObject({ kind: 'heavy-rain', when: 'last24h', value: 12.5 });
    expect(hour!.detail).toContain('12.5 mm fell in one hour from 03:15');
    expect(hour!.detail).toContain('14.0 mm in 24 hours');
    const day = alertsFor(input({}, {}, { rain: 26 }), defaults, clock)[0];
    expect(day).toMatchObject({ kind: 'heavy-rain', when: 'last24h', value: 26, threshold: 25 });
    expect(alertsFor(input({ rainLastHour: 9.9 }, {}, { rain: 24.9 }), defaults, clock)).toEqual([]);
  });

  it('raises high wind from the latest gust, else from the strongest gust of the day', () => {
    expect(alertsFor(input({}, { wind_gust_speed: 60 }), defaults, clock)[0]).toMatchObject({ kind: 'high-wind', when: 'now', value: 60, headline: 'High wind now' });
    const day = alertsFor(input({}, {}, { gustMax: 81, gustMaxAt: Date.UTC(2026, 1, 10, 7, 45) }), defaults, clock)[0];
    expect(day).toMatchObject({ kind: 'high-wind', when: 'last24h', value: 81 });
    expect(day!.detail).toContain('81 km/h around 07:45');
  });

  it('uses the configured thresholds', () => {
    const strict = weatherPageSettings.parse({ frostAtOrBelowC: 2, heavyRainMmPerHour: 4, highGustKmh: 30 });
    const kinds = alertsFor(input({ rainLastHour: 4 }, { ambient_temperature: 1.5, wind_gust_speed: 31 }), strict, clock).map((a) => [a.kind, a.threshold]);
    expect(kinds).toEqual([['frost', 2], ['heavy-rain', 4], ['high-wind', 30]]);
  });

  it('says "at the last reading" for a stale station and drops its last-hour rain', () => {
    const alerts = alertsFor(input({ stale: true, rainLastHour: 15 }, { ambient_temperature: -3, wind_gust_speed: 70 }), defaults, clock);
    expect(alerts.map((a) => a.headline)).toEqual(['Frost at the last reading', 'High wind at the last reading']);
  });
});

describe('the 24-hour summary', () => {
  it('finds the day extremes and the wettest rolling hour across a clock-hour boundary', () => {
    const from = windowStart(NOW);
    const slices = [slice(0, { airMin: -1.5 }), slice(10, { groundMin: -0.5 }), slice(41, { rain: 3 }), slice(42, { rain: 4 }), slice(43, { rain: 4 }), slice(44, { rain: 0.5 }), slice(50, { gustMax: 66, rain: null })];
    const day = dayExtremes(slices, from);
    expect(day).toMatchObject({ airMin: -1.5, groundMin: -0.5, gustMax: 66, rain: 11.5, airMinAt: from, groundMinAt: from + 10 * SLICE_MS, gustMaxAt: from + 50 * SLICE_MS });
    expect(day.wettestHour).toEqual({ rain: 11.5, start: from + 41 * SLICE_MS });
  });

  it('leaves a figure null when no slice had it, and counts the last four slices as the last hour', () => {
    const latest = { stationId: 's1', ts: NOW - 5 * 60_000, values: { ...calm, rainfall: null }, sensors: { rain_gauge: 'missing' } };
    const summary = summarize(latest, [slice(SLICES - 5, { rain: 9 }), slice(SLICES - 4, { rain: 1 }), slice(SLICES - 1, { rain: 2, airMin: null, airMean: null })], NOW, defaults, clock);
    expect(summary.rainLastHour).toBe(3);
    expect(summary.day.rain).toBe(12);
    expect(summary.stale).toBe(false);
    const dry = summarize(latest, [slice(3, { rain: null, airMin: null, groundMin: null, gustMax: null })], NOW, defaults, clock);
    expect(dry.day).toMatchObject({ rain: null, airMin: null, groundMin: null, gustMax: null, wettestHour: null });
    expect(dry.rainLastHour).toBeNull();
  });

  it('marks a station stale after staleAfterMinutes', () => {
    const latest = { stationId: 's1', ts: NOW - 31 * 60_000, values: calm, sensors: {} };
    expect(summarize(latest, [], NOW, defaults, clock).stale).toBe(true);
    expect(summarize({ ...latest, ts: NOW - 30 * 60_000 }, [], NOW, defaults, clock).stale).toBe(false);
  });
});

describe('formatting', () => {
  it('escapes every HTML-special character', () => {
    expect(escapeHtml(`<script>alert("x") & 'y'</script>`)).toBe('&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;');
  });

  it('writes numbers with a real minus sign and never "−0.0"', () => {
    expect(formatNumber(-2.46)).toBe('−2.5');
    expect(formatNumber(-0.04)).toBe('0.0');
    expect(formatNumber(12, 0)).toBe('12');
  });

  it('names compass points and ages', () => {
    expect([0, 22.5, 225, 348.75, 359, -90].map(compassPoint)).toEqual(['N', 'NNE', 'SW', 'N', 'N', 'W']);
    expect([10_000, 3 * 60_000, 60 * 60_000, 125 * 60_000, 3 * 86_400_000].map(formatAge)).toEqual(['just now', '3 min ago', '1 h ago', '2 h 5 min ago', '3 days ago']);
  });

  it('shows clock times in the configured zone', () => {
    const london = timeFormat('Europe/London');
    expect(london.clock(Date.UTC(2026, 6, 1, 12, 0))).toBe('13:00');
    expect(london.zone).toBe('Europe/London');
    expect(weatherPageSettings.safeParse({ timeZone: 'Mars/Olympus' }).success).toBe(false);
  });
});
