import { InvalidRequestException } from './errors.ts';
import { cronNext, type CronFields } from './schedule-cron.ts';

/**
 * CloudWatch Events schedule expressions, as dataset triggers used them, all in UTC:
 * `rate(15 minutes)` and `cron(Minutes Hours Day-of-month Month Day-of-week Year)` with `* , - /` and
 * `?` (one of the two day fields must be `?`). Day-of-week runs 1-7 from Sunday or SUN-SAT.
 * Day-of-month also takes `L` (last day), `L-n` (n days before it) and `nW` (the weekday nearest day n);
 * day-of-week takes `L` (Saturday, the week's last day), `nL` (the month's last weekday n) and `n#k`
 * (its k-th weekday n). aws-cron-parser computes the times; this file checks the expression first, since
 * the library assumes AWS already did and gives no reason for a bad one (cloud/engine/schedule-cron.ts).
 */

export interface Schedule {
  /** The first firing time strictly after `after` (epoch ms), or undefined if there is none. */
  next(after: number): number | undefined;
}

const MINUTE = 60_000;
const RATE_UNITS: Readonly<Record<string, number>> = { minute: MINUTE, hour: 60 * MINUTE, day: 1440 * MINUTE };
/** CloudWatch's minimum rate, and a bound that keeps timers meaningful. */
const MAX_RATE_VALUE = 1_000_000;
/** The years CloudWatch cron accepts. */
const FIRST_YEAR = 1970;
const LAST_YEAR = 2199;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const SPECIALS = 'L, W and # are only allowed in day-of-month (L, L-3, 15W) and day-of-week (L, 6L, 2#1)';

function fail(expression: string, reason: string): never {
  throw new InvalidRequestException(`Schedule expression "${expression}": ${reason}. Examples: rate(15 minutes), cron(0 12 * * ? *).`);
}

export function parseSchedule(expression: string, anchor = 0): Schedule {
  if (typeof expression !== 'string') fail(String(expression), 'must be a string');
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/i.exec(expression.trim());
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!.toLowerCase().replace(/s$/, '');
    if (value < 1 || value > MAX_RATE_VALUE) fail(expression, 'the rate must be a positive whole number');
    if ((value === 1) !== !rate[2]!.toLowerCase().endsWith('s')) fail(expression, `write "${value} ${value === 1 ? unit : `${unit}s`}"`);
    const period = value * RATE_UNITS[unit]!;
    return { next: (after) => anchor + (Math.floor((after - anchor) / period) + 1) * period };
  }
  const cron = /^cron\((.*)\)$/i.exec(expression.trim());
  if (!cron) fail(expression, 'use rate(...) or cron(...)');
  const fields = parseCron(expression, cron![1]!.trim().split(/\s+/));
  return { next: (after) => cronNext(fields, after) };
}

/** One value of a field: a number in min..max, or (month, day-of-week) a three-letter name. */
function number(expression: string, text: string, min: number, max: number, names?: string[]): number {
  const index = names?.indexOf(text.toUpperCase()) ?? -1;
  const n = index >= 0 ? index + 1 : /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(n)) fail(expression, `"${text}" is not a number${names ? ` or a name (${names[0]}-${names.at(-1)})` : ''}`);
  if (n < min || n > max) fail(expression, `"${text}" is outside ${min}-${max}`);
  return n;
}

/** A plain field (`*`, values, ranges, steps, lists) as the sorted numbers it allows. */
function plain(expression: string, text: string, min: number, max: number, names?: string[]): number[] {
  if (/[LW#]/i.test(text.replace(/[A-Z]{3}/gi, (m) => (names?.includes(m.toUpperCase()) ? '0' : m)))) {
    fail(expression, /[,]/.test(text) && names !== MONTHS ? `"${text}": L, W and # cannot be combined with other values` : `"${text}": ${SPECIALS}`);
  }
  const allowed = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === '') fail(expression, `"${part}" is not a value, range or step`);
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) ? Number(stepText) : NaN;
    if (!Number.isInteger(step) || step < 1) fail(expression, `"${part}" has a bad step`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = min;
      to = max;
    } else if (range!.includes('-')) {
      const [a, b, more] = range!.split('-');
      if (more !== undefined) fail(expression, `"${part}" is not a range`);
      from = number(expression, a!, min, max, names);
      to = number(expression, b!, min, max, names);
      if (from > to) fail(expression, `"${part}" runs backwards`);
    } else {
      from = number(expression, range!, min, max, names);
      to = stepText === undefined ? from : max;
    }
    for (let n = from; n <= to; n += step) allowed.add(n);
  }
  return [...allowed].sort((a, b) => a - b);
}

/** Day-of-month: L, L-n, nW, or a plain field. */
function dayOfMonth(expression: string, text: string): CronFields['dayOfMonth'] {
  const upper = text.toUpperCase();
  if (upper === 'L') return { last: 0 };
  if (upper === 'LW') fail(expression, '"LW" (the last weekday of the month) is not supported; use L, or a day-of-week such as 6L');
  const before = /^L-(\d+)$/.exec(upper);
  if (before) return { last: number(expression, before[1]!, 1, 30) };
  const weekday = /^(\d+)W$/.exec(upper);
  if (weekday) return { nearestWeekday: number(expression, weekday[1]!, 1, 31) };
  if (/^\d+L$/.test(upper)) fail(expression, `"${text}": in day-of-month write L or L-n; nL (the last weekday n) belongs in day-of-week`);
  return { days: plain(expression, text, 1, 31) };
}

/** Day-of-week: L, nL, n#k, or a plain field (1-7 from SUN). */
function dayOfWeek(expression: string, text: string): CronFields['dayOfWeek'] {
  const upper = text.toUpperCase();
  if (upper === 'L') return { days: [7] };
  const last = /^([A-Z]{3}|\d+)L$/.exec(upper);
  if (last) return { lastWeekday: number(expression, last[1]!, 1, 7, DAYS) };
  const nth = /^([A-Z]{3}|\d+)#(\d+)$/.exec(upper);
  if (nth) return { weekday: number(expression, nth[1]!, 1, 7, DAYS), nth: number(expression, nth[2]!, 1, 5) };
  if (/^L-/.test(upper)) fail(expression, `"${text}": L-n belongs in day-of-month; in day-of-week write nL, e.g. 6L for the last Friday`);
  return { days: plain(expression, text, 1, 7, DAYS) };
}

function parseCron(expression: string, parts: string[]): CronFields {
  if (parts.length !== 6) fail(expression, `cron takes 6 fields (minutes hours day-of-month month day-of-week year), not ${parts.length}`);
  const [minText, hourText, domText, monthText, dowText, yearText] = parts as [string, string, string, string, string, string];
  if ([minText, hourText, monthText, yearText].includes('?')) fail(expression, '"?" is only allowed in day-of-month or day-of-week');
  if ((domText === '?') === (dowText === '?')) fail(expression, 'exactly one of day-of-month and day-of-week must be "?"');
  return {
    minutes: plain(expression, minText, 0, 59),
    hours: plain(expression, hourText, 0, 23),
    dayOfMonth: domText === '?' ? undefined : dayOfMonth(expression, domText),
    months: plain(expression, monthText, 1, 12, MONTHS),
    dayOfWeek: dowText === '?' ? undefined : dayOfWeek(expression, dowText),
    years: plain(expression, yearText, FIRST_YEAR, LAST_YEAR),
  };
}
