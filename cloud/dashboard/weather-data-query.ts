import { z } from 'zod';
import { thingName } from '../../hardware/core/contract.ts';
import { DEFAULT_SERIES_RANGE, SERIES_RANGES, seriesQuantity, seriesRange } from './series-contract.ts';

/**
 * The query parameters of the page's data endpoints, one zod schema each, and what a bad one is told.
 * Each parameter is given at most once (`?range=a&range=b` is refused, not resolved by guesswork), and
 * an unknown one is refused too, so a misspelt `?rnage=7d` says so instead of silently showing 24 h.
 */

const DAY_MS = 86_400_000;
/** The widest download: a year, plus a day so a leap year or a boundary still fits. */
export const MAX_DOWNLOAD_DAYS = 366;
/** The most records one download holds: under Excel's 1,048,576 rows, so the file opens whole. */
export const MAX_DOWNLOAD_RECORDS = 1_000_000;
/** A download may not start before the epoch (records' ts are epoch ms) nor end more than a day ahead. */
const FUTURE_SLACK_MS = DAY_MS;

export const stationParams = z.object({ stationId: thingName });

export const seriesQuery = z.strictObject({ range: seriesRange.default(DEFAULT_SERIES_RANGE) });

export const compareQuery = z.strictObject({ quantity: seriesQuantity, range: seriesRange.default(DEFAULT_SERIES_RANGE) });

/**
 * A time, or a day. A day as `to` means the end of that day, so ?from=2026-01-01&to=2026-01-31 (what
 * a date form sends as typed) includes 31 January, as a person means it; a time as `to` is exclusive.
 */
const instant = (name: 'from' | 'to') =>
  z
    .union([z.iso.datetime({ offset: true }), z.iso.date()], {
      error: `${name} is an ISO 8601 time such as 2026-01-31T06:00:00Z, or a date such as 2026-01-31 (${name === 'from' ? 'its midnight' : 'the end of that day'}, UTC)`,
    })
    .transform((text) => Date.parse(text) + (name === 'to' && !text.includes('T') ? DAY_MS : 0));

export const downloadQuery = z.strictObject({ range: seriesRange.optional(), from: instant('from').optional(), to: instant('to').optional() });

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** The parameters parsed by `schema`, or one message naming every problem. */
export function parseParams<S extends z.ZodType>(schema: S, raw: unknown): Parsed<z.output<S>> {
  const given = (raw ?? {}) as Record<string, unknown>;
  const repeated = Object.keys(given).filter((k) => Array.isArray(given[k]));
  if (repeated.length > 0) return { ok: false, message: `Give ${repeated.join(', ')} once, not ${repeated.length > 1 ? 'each ' : ''}several times.` };
  const result = schema.safeParse(given);
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown parameter ${issue.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`;
    const name = issue.path.join('.');
    return name === '' || issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
  });
  return { ok: false, message: `${problems.join('; ')}.` };
}

/** The window of a download: `range` back from now, or `from` .. `to` (default now); [from, to). */
export function downloadWindow(query: z.output<typeof downloadQuery>, now: number): Parsed<{ from: number; to: number }> {
  const fail = (message: string): Parsed<never> => ({ ok: false, message });
  // Up to and including a record stamped exactly now.
  const end = now + 1;
  if (query.range !== undefined) {
    if (query.from !== undefined || query.to !== undefined) return fail('Give either range, or from and to, not both.');
    return { ok: true, value: { from: end - SERIES_RANGES[query.range].spanMs, to: end } };
  }
  if (query.from === undefined) {
    if (query.to !== undefined) return fail('Give from as well as to, e.g. ?from=2026-01-01&to=2026-02-01.');
    return { ok: true, value: { from: end - SERIES_RANGES[DEFAULT_SERIES_RANGE].spanMs, to: end } };
  }
  const from = query.from;
  const to = query.to ?? end;
  const text = (ms: number) => new Date(ms).toISOString();
  if (from < 0) return fail(`from ${text(from)} is before 1970; records start later than that.`);
  if (to > now + FUTURE_SLACK_MS) return fail(`to ${text(to)} is in the future; leave to out to download up to now.`);
  if (from >= to) return fail(`from (${text(from)}) must be before to (${text(to)}).`);
  if (to - from > MAX_DOWNLOAD_DAYS * DAY_MS) {
    return fail(`A download covers at most ${MAX_DOWNLOAD_DAYS} days; this asks for ${Math.ceil((to - from) / DAY_MS)}. Split it, e.g. one download per year.`);
  }
  return { ok: true, value: { from, to } };
}
