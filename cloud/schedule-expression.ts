import { InvalidRequestException } from './errors.ts';

/**
 * CloudWatch Events schedule expressions, as dataset triggers used them, all in UTC:
 * `rate(15 minutes)` and `cron(Minutes Hours Day-of-month Month Day-of-week Year)` with `* , - /` and
 * `?` (one of the two day fields must be `?`). Day-of-week runs 1-7 from Sunday or SUN-SAT.
 * `L`, `W` and `#` are refused with a reason.
 */

export interface Schedule {
  /** The first firing time strictly after `after` (epoch ms), or undefined if there is none. */
  next(after: number): number | undefined;
}

const MINUTE = 60_000;
const RATE_UNITS: Readonly<Record<string, number>> = { minute: MINUTE, hour: 60 * MINUTE, day: 1440 * MINUTE };
/** CloudWatch's minimum rate, and a bound that keeps timers meaningful. */
const MAX_RATE_VALUE = 1_000_000;
/** The last year CloudWatch cron accepts, which also bounds the search for the next time. */
const LAST_YEAR = 2199;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

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
  return parseCron(expression, cron![1]!.trim().split(/\s+/));
}

type Matcher = (value: number) => boolean;

function field(expression: string, text: string, min: number, max: number, names?: string[], offset = 0): Matcher | null {
  if (text === '?') return null;
  if (/[LW#]/i.test(text.replace(/[A-Z]{3}/gi, (m) => (names?.includes(m.toUpperCase()) ? '0' : m)))) {
    fail(expression, `"${text}": L, W and # are not supported here`);
  }
  const allowed = new Set<number>();
  const value = (part: string): number => {
    const index = names?.indexOf(part.toUpperCase()) ?? -1;
    const n = index >= 0 ? index + offset : Number(part);
    if (!Number.isInteger(n) || n < min || n > max) fail(expression, `"${part}" is outside ${min}-${max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) fail(expression, `"${part}" has a bad step`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = min;
      to = max;
    } else if (range!.includes('-')) {
      const [a, b] = range!.split('-');
      from = value(a!);
      to = value(b!);
      if (from > to) fail(expression, `"${part}" runs backwards`);
    } else {
      from = value(range!);
      to = stepText === undefined ? from : max;
    }
    for (let n = from; n <= to; n += step) allowed.add(n);
  }
  return (n) => allowed.has(n);
}

function parseCron(expression: string, parts: string[]): Schedule {
  if (parts.length !== 6) fail(expression, `cron takes 6 fields (minutes hours day-of-month month day-of-week year), not ${parts.length}`);
  const [minText, hourText, domText, monthText, dowText, yearText] = parts as [string, string, string, string, string, string];
  const minute = field(expression, minText, 0, 59);
  const hour = field(expression, hourText, 0, 23);
  const dom = field(expression, domText, 1, 31);
  const month = field(expression, monthText, 1, 12, MONTHS, 1);
  const dow = field(expression, dowText, 1, 7, DAYS, 1);
  const year = field(expression, yearText, 1970, LAST_YEAR);
  if (!minute || !hour || !month || !year) fail(expression, '"?" is only allowed in day-of-month or day-of-week');
  if ((dom === null) === (dow === null)) fail(expression, 'exactly one of day-of-month and day-of-week must be "?"');
  const dayMatches = (d: Date): boolean => (dom ? dom(d.getUTCDate()) : dow!(d.getUTCDay() + 1));
  return {
    next(after) {
      const t = new Date(Math.floor(after / MINUTE) * MINUTE + MINUTE);
      while (t.getUTCFullYear() <= LAST_YEAR) {
        if (!year!(t.getUTCFullYear())) {
          t.setUTCFullYear(t.getUTCFullYear() + 1, 0, 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!month!(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!dayMatches(t)) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!hour!(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
        } else if (!minute!(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
        } else {
          return t.getTime();
        }
      }
      return undefined;
    },
  };
}
