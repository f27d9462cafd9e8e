import type { Alert, AlertKind } from '../alerts/alert-model.ts';
import { formatNumber } from './weather-format.ts';

/**
 * Alerts in plain words a farmer can act on. The alert engine (cloud/alerts/) decides when an alert
 * starts and ends; this file only says it, once, for the page and for every notification (ntfy, webhook,
 * MQTT, the alerts dataset), so the page shows exactly what was sent.
 */

export type { AlertKind };

export interface WeatherAlert {
  kind: AlertKind;
  /** "now": still active; "last24h": ended within the last 24 hours. */
  when: 'now' | 'last24h';
  /** The measured value that raised it (°C, mm, km/h or minutes) and the threshold it crossed. */
  value: number;
  threshold: number;
  /** One short line, e.g. "Frost now". */
  headline: string;
  /** What was measured and what it means, in plain words. */
  detail: string;
  /** Epoch ms it started, and ended (null while active). */
  since: number;
  until: number | null;
}

const celsius = (v: number) => `${formatNumber(v)} °C`;
const mm = (v: number) => `${formatNumber(v)} mm`;
const kmh = (v: number) => `${formatNumber(v, 0)} km/h`;

const ADVICE: Record<AlertKind, string> = {
  frost: 'Protect tender plants and young stock, and check water troughs and pipes.',
  'heavy-rain': 'Watch for waterlogged ground, run-off and flooded gateways.',
  'high-wind': 'Secure loose sheeting and gates, and take care with high-sided vehicles and spraying.',
  offline: "Check the station's power and network; its alerts cannot be raised while it is silent.",
};

const HEADLINES: Record<AlertKind, { active: string; ended: string }> = {
  frost: { active: 'Frost now', ended: 'Frost over' },
  'heavy-rain': { active: 'Heavy rain now', ended: 'Heavy rain over' },
  'high-wind': { active: 'High wind now', ended: 'High wind over' },
  offline: { active: 'Station offline', ended: 'Station back online' },
};

function rainLimit(alert: Alert): string {
  return alert.measure === 'day' ? `alert at ${mm(alert.threshold)} in 24 hours` : `alert at ${mm(alert.threshold)} in an hour`;
}

function detailOf(alert: Alert, time: (ms: number) => string): string {
  const since = time(alert.startedAt);
  const span = alert.endedAt === null ? `since ${since}` : `from ${since} to ${time(alert.endedAt)}`;
  const advice = ADVICE[alert.kind];
  switch (alert.kind) {
    case 'frost':
      return alert.endedAt === null
        ? `Temperature down to ${celsius(alert.worst)} ${span} (frost alert at ${celsius(alert.threshold)} or below). ${advice}`
        : `It froze ${span}, down to ${celsius(alert.worst)}. Check for frost damage. ${advice}`;
    case 'heavy-rain': {
      const amount = alert.measure === 'day' ? `${mm(alert.worst)} of rain in 24 hours` : `Up to ${mm(alert.worst)} of rain in an hour`;
      return `${amount} ${span} (${rainLimit(alert)}). ${advice}`;
    }
    case 'high-wind':
      return alert.endedAt === null
        ? `Gusts up to ${kmh(alert.worst)} ${span} (alert at ${kmh(alert.threshold)}). ${advice}`
        : `Gusts up to ${kmh(alert.worst)} ${span}. Check roofs, fences and trees. ${advice}`;
    case 'offline': {
      const lastReading = time(alert.startedAt - alert.threshold * 60_000);
      return alert.endedAt === null
        ? `No reading since ${lastReading} (alert after ${formatNumber(alert.threshold, 0)} min without one). ${advice}`
        : `No readings from ${lastReading} to ${time(alert.endedAt)} (${formatNumber(alert.worst, 0)} min). Alerts are evaluated again from its readings.`;
    }
  }
}

/** Headline and detail of an alert as it stands (active, or ended). */
export function describeAlert(alert: Alert, time: (ms: number) => string): { headline: string; detail: string } {
  const headline = HEADLINES[alert.kind][alert.endedAt === null ? 'active' : 'ended'];
  return { headline, detail: detailOf(alert, time) };
}

/** The page's view of a stored alert. */
export function weatherAlert(alert: Alert, time: (ms: number) => string): WeatherAlert {
  return {
    kind: alert.kind,
    when: alert.endedAt === null ? 'now' : 'last24h',
    value: alert.value,
    threshold: alert.threshold,
    ...describeAlert(alert, time),
    since: alert.startedAt,
    until: alert.endedAt,
  };
}
