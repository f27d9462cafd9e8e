import { describe, expect, it } from 'vitest';
import { mergeGroups } from '../../../cloud/query/csv-group-merge.ts';
import { planIncremental, restrictToGroups } from '../../../cloud/query/incremental-plan.ts';

// Which queries the incremental refresh may patch (read from the syntax tree), the restricted query it
// runs, and the CSV merge. The engine-level equality with the full query is in
// test/cloud/engine/incremental-refresh.test.ts.

const DAILY =
  "SELECT device_id AS station, date_trunc('day', from_unixtime(ts / 1000)) AS day, round(avg(t), 1) AS t_mean, count(*) AS n FROM w GROUP BY 1, 2 ORDER BY 1, 2";

describe('planIncremental', () => {
  it('reads the keys of a grouped query written several ways', () => {
    expect(planIncremental(DAILY)).toMatchObject({ datastore: 'w', device: 'device_id', time: 'ts', unit: 'day', deviceColumn: 0, bucketColumn: 1, order: [0, 1] });
    const swapped = "SELECT date_trunc('HOUR', from_unixtime(\"Ts\" / 1000)) AS h, \"Box\", max(x) FROM w WHERE x > 0 GROUP BY \"Box\", date_trunc('HOUR', from_unixtime(\"Ts\" / 1000)) HAVING count(*) > 2 ORDER BY h, 2";
    expect(planIncremental(swapped)).toMatchObject({ device: 'Box', time: 'Ts', unit: 'hour', deviceColumn: 1, bucketColumn: 0, order: [0, 1] });
  });

  it.each([
    ['a LIMIT', `${DAILY} LIMIT 10`],
    ['DESC order', DAILY.replace('ORDER BY 1, 2', 'ORDER BY 1 DESC, 2')],
    ['an order that is not total over groups', DAILY.replace('ORDER BY 1, 2', 'ORDER BY 1')],
    ['a bare column', DAILY.replace('count(*) AS n', 'x')],
    ['a week bucket (not one fixed width)', DAILY.replaceAll("'day'", "'week'")],
    ['ts not divided by 1000', DAILY.replace('ts / 1000', 'ts / 100')],
    ['a moment-dependent filter', DAILY.replace('FROM w', 'FROM w WHERE ts > to_unixtime(now()) * 1000 - 86400000')],
    ['an order-dependent aggregate', DAILY.replace('count(*) AS n', 'arbitrary(t) AS n')],
    ['a window', DAILY.replace('count(*) AS n', 'sum(count(*)) OVER (PARTITION BY device_id) AS n')],
    ['a join', DAILY.replace('FROM w', 'FROM w JOIN v ON w.a = v.a')],
    ['a subquery', DAILY.replace('FROM w', 'FROM w WHERE t > (SELECT avg(t) FROM w)')],
    ['a third group key', DAILY.replace('GROUP BY 1, 2', 'GROUP BY 1, 2, t')],
    ['DISTINCT', DAILY.replace('SELECT', 'SELECT DISTINCT')],
    ['SQL that does not parse', 'SELECT FROM WHERE'],
  ])('runs %s in full', (_what, sql) => {
    expect(planIncremental(sql)).toBeUndefined();
  });
});

describe('restrictToGroups', () => {
  it('adds one indexed (device, ts range) term per run of adjacent buckets, widened by a millisecond, after the WHERE', () => {
    const plan = planIncremental(DAILY.replace('FROM w', "FROM w WHERE t <> 'x'"))!;
    const day = 86_400_000;
    const q = restrictToGroups(plan, [{ device: "o'neil", start: 2 * day }, { device: "o'neil", start: day }, { device: 'b', start: 5 * day }], { datastores: ['w'] });
    expect(q.sql).toContain(
      `WHERE ("t" <> 'x') AND ((("device_id" = 'b') AND (("ts" >= ${5 * day - 1}) AND ("ts" < ${6 * day + 1}))) OR (("device_id" = 'o''neil') AND (("ts" >= ${day - 1}) AND ("ts" < ${3 * day + 1}))))`,
    );
    expect(q.datastores).toEqual(['w']);
  });
});

describe('mergeGroups', () => {
  const keys = { deviceColumn: 0, bucketColumn: 1, order: [0, 1] as const };
  const head = 'station,day,n\r\n';
  const row = (s: string, d: string, n: number) => `${s},2024-01-0${d} 00:00:00.000,${n}\r\n`;

  it('replaces the recomputed groups in order, drops rows of groups not asked for, and removes a group that is gone', () => {
    const previous = head + 'a,,7\r\n' + row('a', '1', 1) + row('a', '3', 3) + row('c', '1', 5);
    const recomputed = head + row('a', '2', 2) + row('a', '3', 30) + row('b', '1', 4) + row('b', '2', 99);
    const touched = new Set(['a\n2024-01-02 00:00:00.000', 'a\n2024-01-03 00:00:00.000', 'b\n2024-01-01 00:00:00.000', 'c\n2024-01-01 00:00:00.000']);
    expect(mergeGroups(previous, recomputed, keys, touched)).toEqual({ text: head + 'a,,7\r\n' + row('a', '1', 1) + row('a', '2', 2) + row('a', '3', 30) + row('b', '1', 4), rows: 5 });
  });

  it('gives up on keys that do not sort as plain text, or another header', () => {
    expect(mergeGroups(head + row("'=x", '1', 1), head, keys, new Set())).toBeUndefined();
    expect(mergeGroups(head + row('10', '1', 1), head, keys, new Set())).toBeUndefined();
    expect(mergeGroups(head + row('b', '1', 1) + row('a', '1', 1), head, keys, new Set())).toBeUndefined();
    expect(mergeGroups(head, 'station,day,m\r\n', keys, new Set())).toBeUndefined();
  });
});
