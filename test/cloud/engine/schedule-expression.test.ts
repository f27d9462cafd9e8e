import { describe, expect, it } from 'vitest';
import { InvalidRequestException } from '../../../cloud/engine/errors.ts';
import { parseSchedule } from '../../../cloud/engine/schedule-expression.ts';

const at = (iso: string) => Date.parse(iso);
const next = (expression: string, after: string) => new Date(parseSchedule(expression).next(at(after))!).toISOString();

describe('schedule expressions', () => {
  it('rate() fires every period counted from the anchor', () => {
    const schedule = parseSchedule('rate(15 minutes)', at('2024-01-01T00:05:00Z'));
    expect(new Date(schedule.next(at('2024-01-01T00:05:00Z'))!).toISOString()).toBe('2024-01-01T00:20:00.000Z');
    expect(new Date(schedule.next(at('2024-01-01T00:21:00Z'))!).toISOString()).toBe('2024-01-01T00:35:00.000Z');
    expect(parseSchedule('rate(1 hour)').next(0)).toBe(3600_000);
    expect(parseSchedule('rate(2 days)').next(0)).toBe(2 * 86400_000);
  });

  it('cron() fires at the next matching minute in UTC', () => {
    expect(next('cron(0 12 * * ? *)', '2024-01-01T12:00:00Z')).toBe('2024-01-02T12:00:00.000Z');
    expect(next('cron(0 12 * * ? *)', '2024-01-01T11:59:59Z')).toBe('2024-01-01T12:00:00.000Z');
    expect(next('cron(0/15 * * * ? *)', '2024-01-01T10:07:00Z')).toBe('2024-01-01T10:15:00.000Z');
    expect(next('cron(30 6 ? * MON-FRI *)', '2024-01-05T07:00:00Z')).toBe('2024-01-08T06:30:00.000Z');
    expect(next('cron(0 0 1 JAN,JUL ? *)', '2024-01-01T00:00:00Z')).toBe('2024-07-01T00:00:00.000Z');
    expect(next('cron(0 8 ? * 1 *)', '2024-01-01T00:00:00Z')).toBe('2024-01-07T08:00:00.000Z');
    expect(next('cron(0 0 29 2 ? *)', '2024-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('cron(5,10 1-2 * * ? 2030)', '2024-03-01T00:00:00Z')).toBe('2030-01-01T01:05:00.000Z');
  });

  it('L in day-of-month is the last day, L-n n days before it', () => {
    expect(next('cron(0 0 L * ? *)', '2024-02-01T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z');
    expect(next('cron(0 0 L * ? *)', '2023-02-01T00:00:00Z')).toBe('2023-02-28T00:00:00.000Z');
    expect(next('cron(0 0 L * ? *)', '2024-04-30T00:00:00Z')).toBe('2024-05-31T00:00:00.000Z');
    expect(next('cron(30 23 L-2 * ? *)', '2024-04-01T00:00:00Z')).toBe('2024-04-28T23:30:00.000Z');
  });

  it('nW is the weekday nearest day n, within the month', () => {
    // 1 June 2024 is a Saturday: the nearest weekday in June is Monday the 3rd, not Friday 31 May.
    expect(next('cron(0 9 1W * ? *)', '2024-05-15T00:00:00Z')).toBe('2024-06-03T09:00:00.000Z');
    // 15 June 2024 is a Saturday: Friday the 14th. 15 September 2024 is a Sunday: Monday the 16th.
    expect(next('cron(0 9 15W * ? *)', '2024-06-01T00:00:00Z')).toBe('2024-06-14T09:00:00.000Z');
    expect(next('cron(0 9 15W * ? *)', '2024-09-01T00:00:00Z')).toBe('2024-09-16T09:00:00.000Z');
    // 30 and 31 February do not exist and 28 February 2027 is a Sunday: no weekday near the 30th; March's is Tuesday the 30th.
    expect(next('cron(0 0 30W * ? *)', '2027-01-31T00:00:00Z')).toBe('2027-03-30T00:00:00.000Z');
  });

  it('n#k is the k-th weekday n of the month, nL the last, L the week\'s last day', () => {
    // AWS's example: 10:00 on the first Monday of every month.
    expect(next('cron(0 10 ? * 2#1 *)', '2024-01-02T00:00:00Z')).toBe('2024-02-05T10:00:00.000Z');
    expect(next('cron(0 10 ? * MON#1 *)', '2024-01-01T00:00:00Z')).toBe('2024-01-01T10:00:00.000Z');
    expect(next('cron(0 9 ? * 6#3 *)', '2024-03-01T00:00:00Z')).toBe('2024-03-15T09:00:00.000Z');
    // A fifth Monday in February: 2016, then 2044 (the library gave up on such gaps).
    expect(next('cron(0 0 ? 2 2#5 *)', '2017-01-01T00:00:00Z')).toBe('2044-02-29T00:00:00.000Z');
    expect(next('cron(0 18 ? * 6L *)', '2024-03-01T00:00:00Z')).toBe('2024-03-29T18:00:00.000Z');
    expect(next('cron(0 18 ? * FRIL *)', '2024-05-01T00:00:00Z')).toBe('2024-05-31T18:00:00.000Z');
    expect(next('cron(0 8 ? * L *)', '2024-01-01T00:00:00Z')).toBe('2024-01-06T08:00:00.000Z');
  });

  it('works in UTC whatever the process time zone (the library counts nL in local time)', () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ['Europe/London', 'America/New_York', 'Australia/Sydney', 'UTC']) {
        process.env.TZ = tz;
        // 25 October 2026 is the last Sunday of October, and London's clocks go back that morning.
        expect(next('cron(0 9 ? * 1L *)', '2026-10-01T00:00:00Z'), tz).toBe('2026-10-25T09:00:00.000Z');
        expect(next('cron(0 9 ? * 1#5 *)', '2026-10-01T00:00:00Z'), tz).toBe('2026-11-29T09:00:00.000Z');
        expect(next('cron(0 0 L * ? *)', '2026-10-01T00:00:00Z'), tz).toBe('2026-10-31T00:00:00.000Z');
        expect(next('cron(0 0 1W * ? *)', '2026-10-02T00:00:00Z'), tz).toBe('2026-11-02T00:00:00.000Z');
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('skips days a month does not have (the library rolls 31 April over to 1 May)', () => {
    expect(next('cron(0 0 31 * ? *)', '2024-04-01T00:00:00Z')).toBe('2024-05-31T00:00:00.000Z');
    expect(next('cron(15 6 30,31 * ? *)', '2025-02-01T00:00:00Z')).toBe('2025-03-30T06:15:00.000Z');
  });

  it('has no next time once the year range is over', () => {
    expect(parseSchedule('cron(0 0 1 1 ? 2020)').next(at('2024-01-01T00:00:00Z'))).toBeUndefined();
  });

  const bad: Array<[string, RegExp]> = [
    ['rate(0 minutes)', /positive whole number/],
    ['rate(5 minute)', /write "5 minutes"/],
    ['rate(1 minutes)', /write "1 minute"/],
    ['rate(5 weeks)', /use rate\(\.\.\.\) or cron/],
    ['every 5 minutes', /use rate\(\.\.\.\) or cron/],
    ['cron(0 12 * * *)', /6 fields .* not 5/],
    ['cron(0 12 * * * *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 12 ? * ? *)', /exactly one of day-of-month and day-of-week/],
    ['cron(? 12 * * ? *)', /"\?" is only allowed in day-of-month or day-of-week/],
    ['cron(61 12 * * ? *)', /"61" is outside 0-59/],
    ['cron(0 25 * * ? *)', /"25" is outside 0-23/],
    ['cron(0 12 * 13 ? *)', /"13" is outside 1-12/],
    ['cron(0 12 * FOO ? *)', /"FOO" is not a number or a name \(JAN-DEC\)/],
    ['cron(x 12 * * ? *)', /"x" is not a number/],
    ['cron(5abc 12 * * ? *)', /"5abc" is not a number/],
    ['cron(5-1 * * * ? *)', /runs backwards/],
    ['cron(*/0 * * * ? *)', /bad step/],
    ['cron(0 12 * * ? 1969)', /outside 1970-2199/],
    ['cron(0 12 32W * ? *)', /"32" is outside 1-31/],
    ['cron(0 12 L-31 * ? *)', /"31" is outside 1-30/],
    ['cron(0 12 LW * ? *)', /"LW" .* not supported/],
    ['cron(0 12 5L * ? *)', /nL .* belongs in day-of-week/],
    ['cron(0 12 ? * L-2 *)', /L-n belongs in day-of-month/],
    ['cron(0 12 ? * 2#6 *)', /"6" is outside 1-5/],
    ['cron(0 12 ? * 8#1 *)', /"8" is outside 1-7/],
    ['cron(0 12 ? * 8L *)', /"8" is outside 1-7/],
    ['cron(0 12 L,15 * ? *)', /cannot be combined/],
    ['cron(0 12 ? * 2#1,3 *)', /cannot be combined/],
    ['cron(0 L * * ? *)', /only allowed in day-of-month .* and day-of-week/],
    ['cron(0 12 * * ? 2030W)', /only allowed in day-of-month/],
  ];
  for (const [expression, reason] of bad) {
    it(`refuses ${expression} and says why`, () => {
      expect(() => parseSchedule(expression)).toThrow(InvalidRequestException);
      expect(() => parseSchedule(expression)).toThrow(reason);
    });
  }
});
