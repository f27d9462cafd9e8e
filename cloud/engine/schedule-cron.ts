import awsCronParser from 'aws-cron-parser';

/**
 * Next firing times of a checked CloudWatch cron expression (cloud/engine/schedule-expression.ts), computed by
 * aws-cron-parser 1.1.12, with work-arounds for what it gets wrong (each has a test in
 * test/cloud/schedule-expression.test.ts):
 * - a day the month lacks comes back rolled over (29 Feb 2025 as 1 March, 31 April as 1 May): every
 *   answer is checked against the fields, and a wrong one is searched past;
 * - it throws after ten empty steps (2#5 in February waits years) or when a month has no weekday near
 *   an nW day: the search goes on from the next month, which the throw shows has no match left;
 * - nL (last weekday n) adds 7 × 24 h in the local time zone, so near a DST change (London, October)
 *   it misses that month: it is asked for the 4th and 5th weekday n instead, which it counts by date.
 */

export interface CronFields {
  minutes: number[];
  hours: number[];
  /** undefined for "?". `last`: the last day less that many days. */
  dayOfMonth: { days: number[] } | { last: number } | { nearestWeekday: number } | undefined;
  months: number[];
  /** undefined for "?". Weekdays 1-7 from Sunday. */
  dayOfWeek: { days: number[] } | { lastWeekday: number } | { weekday: number; nth: number } | undefined;
  years: number[];
}

type ParsedCron = ReturnType<typeof awsCronParser.parse>;

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
/** Bounds the search: one step per month from 1970 to 2199 is about 2,760. */
const MAX_STEPS = 6000;

function toLibrary(fields: CronFields, dayOfWeek = fields.dayOfWeek): ParsedCron {
  const dom = fields.dayOfMonth;
  return {
    minutes: fields.minutes,
    hours: fields.hours,
    daysOfMonth: !dom ? [] : 'days' in dom ? dom.days : 'last' in dom ? ['L', dom.last] : ['W', dom.nearestWeekday],
    months: fields.months,
    daysOfWeek: !dayOfWeek ? [] : 'days' in dayOfWeek ? dayOfWeek.days : 'lastWeekday' in dayOfWeek ? ['L', dayOfWeek.lastWeekday] : ['#', dayOfWeek.weekday, dayOfWeek.nth],
    years: fields.years,
  };
}

function daysInMonth(date: Date): number {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
}

/** Whether a time the library gave really matches the fields it can get wrong. */
function matches(fields: CronFields, t: number): boolean {
  const d = new Date(t);
  if (!fields.minutes.includes(d.getUTCMinutes()) || !fields.hours.includes(d.getUTCHours())) return false;
  if (!fields.months.includes(d.getUTCMonth() + 1) || !fields.years.includes(d.getUTCFullYear())) return false;
  const dom = fields.dayOfMonth;
  if (dom && 'days' in dom) return dom.days.includes(d.getUTCDate());
  if (dom && 'last' in dom) return d.getUTCDate() === daysInMonth(d) - dom.last;
  const dow = fields.dayOfWeek;
  if (dow && 'days' in dow) return dow.days.includes(d.getUTCDay() + 1);
  return true;
}

function startOfNextMonth(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The library's next time strictly after `after`, made safe; undefined when there is none. */
function libraryNext(fields: CronFields, parsed: ParsedCron, after: number): number | undefined {
  let from = after;
  for (let step = 0; step < MAX_STEPS; step += 1) {
    let found: Date | null;
    try {
      found = awsCronParser.next(parsed, new Date(from));
    } catch {
      // The month the library began in has no match left; it searches from the minute after `from`, so
      // one minute before the next month's start makes it begin there.
      from = startOfNextMonth(from + MINUTE) - MINUTE;
      continue;
    }
    if (found === null) return undefined;
    if (matches(fields, found.getTime())) return found.getTime();
    from = found.getTime();
  }
  return undefined;
}

/** nL: the 5th weekday n when the month has one, else the 4th. */
function lastWeekdayNext(fields: CronFields, weekday: number, after: number): number | undefined {
  const fifth = libraryNext(fields, toLibrary(fields, { weekday, nth: 5 }), after);
  const fourths = toLibrary(fields, { weekday, nth: 4 });
  let from = after;
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const fourth = libraryNext(fields, fourths, from);
    if (fourth === undefined || (fifth !== undefined && fifth < fourth)) return fifth;
    const date = new Date(fourth);
    if (date.getUTCDate() + 7 > daysInMonth(date)) return fourth;
    // This month has a 5th: skip the rest of this day.
    from = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()) + DAY - MINUTE;
  }
  return undefined;
}

export function cronNext(fields: CronFields, after: number): number | undefined {
  const dow = fields.dayOfWeek;
  if (dow && 'lastWeekday' in dow) return lastWeekdayNext(fields, dow.lastWeekday, after);
  return libraryNext(fields, toLibrary(fields), after);
}
