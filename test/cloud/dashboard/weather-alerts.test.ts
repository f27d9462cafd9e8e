import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../cloud/alerts/alert-model.ts';
import { describeAlert, weatherAlert } from '../../../cloud/dashboard/weather-alerts.ts';
import { compassPoint, escapeHtml, formatAge, formatNumber, timeFormat } from '../../../cloud/dashboard/weather-format.ts';
import { weatherPageSettings } from '../../../cloud/dashboard/weather-page-settings.ts';
import type { ReadingBucket, ReadingField } from '../../../cloud/dashboard/weather-source.ts';
import { dayExtremes, SLICE_MS, SLICES, summarize, windowStart } from '../../../cloud/dashboard/weather-summary.ts';

const defaults = weatherPageSettings.parse({});
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const NOW = Date.UTC(2026, 1, 10, 12, 0);

const calm: Record<ReadingField, number | null> = { ambient_temperature: 6, ground_temperature: 7, humidity: 80, air_pressure: 1010, wind_speed: 10, wind_gust_speed: 20, wind_direction: 180, rainfall: 0 };

function slice(index: number, over: Partial<ReadingBucket> = {}): ReadingBucket {
  return { index, count: 1, airMin: 5, airMean: 6, groundMin: 6, groundMean: 7, rain: 0, windMean: 8, gustMax: 15, ...over };
}

function alert(over: Partial<Alert>): Alert {
  const startedAt = over.startedAt ?? Date.UTC(2026, 1, 10, 4, 10);
  return { id: 'x', kind: 'frost', stationId: 'north_field', startedAt, endedAt: null, value: 0, threshold: 0, worst: 0, measure: null, notify: true, ...over };
}

describe('alerts in plain words', () => {
  it('says frost now with the coldest value and since when, and once over, from when to when', () => {
    const active = describeAlert(alert({ worst: -2.04 }), clock);
    expect(active).toEqual({ headline: 'Frost now', detail: expect.stringContaining('Temperature down to −2.0 °C since 04:10 (frost alert at 0.0 °C or below). Protect tender plants') });
    const over = describeAlert(alert({ worst: -2.04, endedAt: Date.UTC(2026, 1, 10, 8, 30) }), clock);
    expect(over.headline).toBe('Frost over');
    expect(over.detail).toContain('It froze from 04:10 to 08:30, down to −2.0 °C. Check for frost damage.');
  });

  it('names which rain total raised a heavy-rain alert', () => {
    expect(describeAlert(alert({ kind: 'heavy-rain', measure: 'hour', value: 11, worst: 14.2, threshold: 10 }), clock).detail).toContain('Up to 14.2 mm of rain in an hour since 04:10 (alert at 10.0 mm in an hour)');
    expect(describeAlert(alert({ kind: 'heavy-rain', measure: 'day', value: 25, worst: 31, threshold: 25 }), clock).detail).toContain('31.0 mm of rain in 24 hours since 04:10 (alert at 25.0 mm in 24 hours)');
  });

  it('gives gusts in whole km/h, and an offline station its last reading', () => {
    expect(describeAlert(alert({ kind: 'high-wind', worst: 74.4, threshold: 60 }), clock)).toMatchObject({ headline: 'High wind now', detail: expect.stringContaining('Gusts up to 74 km/h since 04:10 (alert at 60 km/h)') });
    const offline = alert({ kind: 'offline', threshold: 30, value: 30, worst: 95, startedAt: Date.UTC(2026, 1, 10, 4, 30), endedAt: Date.UTC(2026, 1, 10, 5, 35) });
    expect(describeAlert(offline, clock)).toEqual({ headline: 'Station back online', detail: expect.stringContaining('No readings from 04:00 to 05:35 (95 min)') });
    expect(describeAlert({ ...offline, endedAt: null }, clock).detail).toContain('No reading since 04:00 (alert after 30 min without one)');
  });

  it('gives the page kind, headline, detail, since and until; "now" while active', () => {
    const a = alert({ endedAt: NOW });
    expect(weatherAlert(a, clock)).toMatchObject({ kind: 'frost', when: 'last24h', since: a.startedAt, until: NOW, headline: 'Frost over' });
    expect(weatherAlert(alert({}), clock)).toMatchObject({ when: 'now', until: null, headline: 'Frost now' });
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
    const summary = summarize(latest, [slice(SLICES - 5, { rain: 9 }), slice(SLICES - 4, { rain: 1 }), slice(SLICES - 1, { rain: 2, airMin: null, airMean: null })], NOW, defaults);
    expect(summary.rainLastHour).toBe(3);
    expect(summary.day.rain).toBe(12);
    expect(summary.stale).toBe(false);
    const dry = summarize(latest, [slice(3, { rain: null, airMin: null, groundMin: null, gustMax: null })], NOW, defaults);
    expect(dry.day).toMatchObject({ rain: null, airMin: null, groundMin: null, gustMax: null, wettestHour: null });
    expect(dry.rainLastHour).toBeNull();
  });

  it('marks a station stale after staleAfterMinutes', () => {
    const latest = { stationId: 's1', ts: NOW - 31 * 60_000, values: calm, sensors: {} };
    expect(summarize(latest, [], NOW, defaults).stale).toBe(true);
    expect(summarize({ ...latest, ts: NOW - 30 * 60_000 }, [], NOW, defaults).stale).toBe(false);
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
