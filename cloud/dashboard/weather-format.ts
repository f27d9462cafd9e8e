/**
 * How values read on the weather page: numbers with their units, compass points, "3 min ago", clock
 * times in the page's time zone, and HTML escaping for everything that came from a station.
 */

const COMPASS = ['N', 'NNE', 'NE', 'ENE', 'E', 'ESE', 'SE', 'SSE', 'S', 'SSW', 'SW', 'WSW', 'W', 'WNW', 'NW', 'NNW'] as const;
/** Shown for a value the station did not send. */
export const NO_VALUE = '—';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** A number with a fixed count of decimals and a real minus sign; "-0.0" reads as "0.0". */
export function formatNumber(value: number, digits = 1): string {
  const text = value.toFixed(digits);
  const zero = Number(text) === 0;
  return zero ? text.replace('-', '') : text.replace('-', '−');
}

export function withUnit(value: number | null, unit: string, digits = 1): string {
  return value === null ? NO_VALUE : `${formatNumber(value, digits)} ${unit}`;
}

/** Sixteen-point compass name of a bearing in degrees. */
export function compassPoint(degrees: number): string {
  const normalised = ((degrees % 360) + 360) % 360;
  return COMPASS[Math.round(normalised / 22.5) % 16]!;
}

/** "just now", "3 min ago", "2 h 5 min ago", "3 days ago". */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h ago` : `${hours} h ${minutes % 60} min ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

export interface TimeFormat {
  /** "14:05" */
  clock(ms: number): string;
  /** "Tue 3 Mar, 14:05" */
  dateTime(ms: number): string;
  /** The zone's name, e.g. Europe/London. */
  zone: string;
}

export function timeFormat(timeZone?: string): TimeFormat {
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const dateTime = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return {
    clock: (ms) => clock.format(ms),
    dateTime: (ms) => dateTime.format(ms),
    zone: clock.resolvedOptions().timeZone,
  };
}
