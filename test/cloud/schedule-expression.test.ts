import { describe, expect, it } from 'vitest';
import { InvalidRequestException } from '../../cloud/errors.ts';
import { parseSchedule } from '../../cloud/schedule-expression.ts';

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

  it('has no next time once the year range is over', () => {
    expect(parseSchedule('cron(0 0 1 1 ? 2020)').next(at('2024-01-01T00:00:00Z'))).toBeUndefined();
  });

  const bad = [
    'rate(0 minutes)', 'rate(5 minute)', 'rate(1 minutes)', 'rate(5 weeks)', 'every 5 minutes', 'cron(0 12 * * *)',
    'cron(0 12 * * * *)', 'cron(0 12 ? * ? *)', 'cron(61 12 * * ? *)', 'cron(0 12 L * ? *)', 'cron(0 12 ? * 2#1 *)',
    'cron(0 12 15W * ? *)', 'cron(0 25 * * ? *)', 'cron(0 12 * 13 ? *)', 'cron(5-1 * * * ? *)', 'cron(*/0 * * * ? *)',
  ];
  for (const expression of bad) {
    it(`refuses ${expression}`, () => expect(() => parseSchedule(expression)).toThrow(InvalidRequestException));
  }
});
