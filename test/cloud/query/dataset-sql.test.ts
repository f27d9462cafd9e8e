import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRequestException } from '../../../cloud/engine/errors.ts';
import { translateDatasetSql, translateTimeExpression } from '../../../cloud/query/dataset-sql.ts';
import { BACKENDS, openBackend, stopBackends, type SqlBackend, type TableSpec } from './sql-backends.ts';

const datastores = ['weather', 'taps'];
const translate = (sql: string) => translateDatasetSql(sql, { datastores });

describe('dataset SQL: what is refused', () => {
  const refused: [string, RegExp][] = [
    ['DELETE FROM weather', /must start with SELECT/],
    ['SELECT 1; DROP TABLE weather', /one SELECT statement/],
    ['SELECT * FROM weather; SELECT * FROM taps', /one SELECT statement/],
    ['SELECT * FROM weather /* hidden */ ; DELETE FROM weather', /one SELECT statement/],
    ["SELECT * FROM weather WHERE a = 1 --\n; ATTACH DATABASE 'x' AS y", /one SELECT statement/],
    ["ATTACH DATABASE '/tmp/x' AS y", /must start with SELECT/],
    ['PRAGMA table_info(weather)', /must start with SELECT/],
    ['SELECT * FROM pragma_table_info(\'weather\')', /table function/],
    ['SELECT * FROM sqlite_master', /not a datastore/],
    ['SELECT * FROM sqlite_schema', /not a datastore/],
    ['SELECT name FROM weather WHERE name IN (SELECT name FROM sqlite_master)', /not a datastore/],
    ['SELECT * FROM __ds_weather', /not a datastore/],
    ['SELECT __record FROM weather', /not a datastore attribute/],
    ['SELECT * FROM main.weather', /without a schema prefix/],
    ['SELECT * FROM elsewhere', /"elsewhere" is not a datastore/],
    ['SELECT * FROM weather, elsewhere', /"elsewhere" is not a datastore/],
    ['SELECT * FROM weather JOIN elsewhere ON 1 = 1', /"elsewhere" is not a datastore/],
    ['WITH x AS (SELECT 1) SELECT * FROM x', /WITH is not part/],
    ["SELECT load_extension('/tmp/evil')", /load_extension\(\) is not supported/],
    ["SELECT readfile('/etc/passwd')", /not supported/],
    ['SELECT * FROM weather WHERE a = ?', /parameters are not allowed/],
    ['SELECT * FROM weather WHERE a = :x', /parameters are not allowed/],
    ['SELECT [a] FROM weather', /double quotes/],
    ['SELECT `a` FROM weather', /double quotes/],
    ['SELECT * INTO other FROM weather', /INTO is not allowed/],
    ['SELECT * FROM weather WHERE a = 1 /* open comment', /not closed/],
    ['SELECT * FROM weather -- ; DELETE FROM weather', /comment holds a ";".*hidden second statement/],
    ['SELECT * FROM weather /* ; DROP TABLE weather */', /comment holds a ";"/],
    ["SELECT 'open FROM weather", /not closed/],
    ['SELECT (a FROM weather', /not closed/],
    ['SELECT a) FROM weather', /no matching/],
    ['SELECT * FROM', /followed by a datastore name/],
    ['SELECT * FROM (VALUES (1))', /take a datastore name or a \(SELECT/],
    ["SELECT date_trunc('fortnight', from_unixtime(ts)) FROM weather", /unit in quotes/],
    ['', /empty/],
  ];
  for (const [sql, reason] of refused) {
    it(`refuses ${JSON.stringify(sql)}`, () => {
      expect(() => translate(sql)).toThrow(InvalidRequestException);
      expect(() => translate(sql)).toThrow(reason);
    });
  }

  it('accepts one trailing semicolon and drops comments', () => {
    expect(translate('SELECT a FROM weather -- the lot\n;').sql).toBe('SELECT "a" FROM "weather"');
  });

  it('re-quotes identifiers and strings so nothing escapes its token', () => {
    const { sql } = translate(`SELECT "a"";DROP" FROM weather WHERE b = 'x'';DROP'`);
    expect(sql).toBe(`SELECT "a"";DROP" FROM "weather" WHERE "b" = 'x'';DROP'`);
  });

  it('lists the datastores a query reads, in their stored spelling', () => {
    expect(translate('SELECT * FROM WEATHER w JOIN taps t ON w.device_id = t.device_id').datastores).toEqual(['weather', 'taps']);
  });
});

const t0 = Date.UTC(2024, 0, 3, 13, 45, 30, 250); // a Wednesday
const tables: TableSpec[] = [
  {
    name: 'weather',
    columns: [['device_id', 'text'], ['ts', 'real'], ['temp', 'real'], ['rain', 'real'], ['sensors', 'json']],
    rows: [
      ['s1', t0, 10, 0.2, '{"bme280":"ok"}'],
      ['s1', t0 + 3600_000, 14, 0.4, '{"bme280":"ok"}'],
      ['s2', t0 + 86400_000, 20, null, '{"bme280":"missing"}'],
    ],
  },
  { name: 'taps', columns: [['device_id', 'text'], ['ts', 'real'], ['object_id', 'text']], rows: [] },
];

afterAll(() => stopBackends());

describe.each(BACKENDS)('dataset SQL on %s gives Presto results', (backend) => {
  let b: SqlBackend;
  const run = (sql: string) => b.run(sql);

  beforeAll(async () => {
    b = await openBackend(backend, tables);
  });
  afterAll(() => b?.close());

  it('from_unixtime and date_trunc give Presto timestamps', async () => {
    const [row] = await run(`SELECT from_unixtime(ts / 1000) AS t, date_trunc('hour', from_unixtime(ts / 1000)) AS h,
      date_trunc('day', from_unixtime(ts / 1000)) AS d, date_trunc('week', from_unixtime(ts / 1000)) AS w,
      date_trunc('month', from_unixtime(ts / 1000)) AS m, date_trunc('quarter', from_unixtime(ts / 1000)) AS q,
      date_trunc('year', from_unixtime(ts / 1000)) AS y FROM weather WHERE temp = 10`);
    expect(row).toEqual({
      t: '2024-01-03 13:45:30.250', h: '2024-01-03 13:00:00.000', d: '2024-01-03 00:00:00.000', w: '2024-01-01 00:00:00.000',
      m: '2024-01-01 00:00:00.000', q: '2024-01-01 00:00:00.000', y: '2024-01-01 00:00:00.000',
    });
  });

  it('groups a daily summary per station', async () => {
    const rows = await run(`SELECT device_id, date_trunc('day', from_unixtime(ts / 1000)) AS day, min(temp) AS lo, max(temp) AS hi,
      avg(temp) AS mean, sum(rain) AS rain FROM weather GROUP BY 1, 2 ORDER BY 1, 2`);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ device_id: 's1', day: '2024-01-03 00:00:00.000', lo: 10, hi: 14, mean: 12 });
    expect(rows[0]!.rain).toBeCloseTo(0.6);
    expect(rows[1]).toMatchObject({ device_id: 's2', day: '2024-01-04 00:00:00.000', rain: null });
  });

  it('extracts date parts, casts and formats', async () => {
    const [row] = await run(`SELECT year(from_unixtime(ts / 1000)) AS y, month(from_unixtime(ts / 1000)) AS mo, day(from_unixtime(ts / 1000)) AS d,
      hour(from_unixtime(ts / 1000)) AS h, extract(minute FROM from_unixtime(ts / 1000)) AS mi, day_of_week(from_unixtime(ts / 1000)) AS dow,
      CAST(temp AS bigint) AS i, CAST(temp AS varchar) AS s, date_format(from_unixtime(ts / 1000), '%Y/%m/%d %H:%i') AS f,
      to_unixtime(from_unixtime(ts / 1000)) AS back FROM weather WHERE temp = 10`);
    expect(row).toEqual({ y: 2024, mo: 1, d: 3, h: 13, mi: 45, dow: 3, i: 10, s: '10.0', f: '2024/01/03 13:45', back: t0 / 1000 });
  });

  it('supports interval arithmetic, date_add and date_diff', async () => {
    const [row] = await run(`SELECT from_unixtime(ts / 1000) - INTERVAL '1' DAY AS yesterday, date_add('hour', 2, from_unixtime(ts / 1000)) AS later,
      date_diff('hour', from_unixtime(ts / 1000), date_add('day', 1, from_unixtime(ts / 1000))) AS hours FROM weather WHERE temp = 10`);
    expect(row).toEqual({ yesterday: '2024-01-02 13:45:30.250', later: '2024-01-03 15:45:30.250', hours: 24 });
  });

  it('reads nested attributes with json_extract_scalar and conditionals', async () => {
    const rows = await run(`SELECT device_id, json_extract_scalar(sensors, '$.bme280') AS bme, if(temp > 12, 'warm', 'cold') AS feel,
      coalesce(rain, 0) AS r, count_if(temp > 12) OVER () AS warm_rows FROM weather ORDER BY ts`);
    expect(rows.map((r) => [r.bme, r.feel, r.r])).toEqual([['ok', 'cold', 0.2], ['ok', 'warm', 0.4], ['missing', 'warm', 0]]);
  });

  it('computes sample and population standard deviation', async () => {
    const [row] = await run('SELECT stddev(temp) AS s, stddev_pop(temp) AS p, variance(temp) AS v FROM weather');
    expect(row!.s).toBeCloseTo(5.033, 3);
    expect(row!.p).toBeCloseTo(4.110, 3);
    expect(row!.v).toBeCloseTo(25.333, 3);
  });

  it('wraps datastores in the deltaTime window, start inclusive and end exclusive', async () => {
    const timeExpression = translateTimeExpression('from_unixtime(ts / 1000)', b.dialect);
    const rows = await b.run('SELECT temp FROM weather w ORDER BY w.temp', { datastores, deltaTime: { timeExpression, start: t0, end: t0 + 3600_000 } });
    expect(rows).toEqual([{ temp: 10 }]);
  });

  it('refuses a timeExpression that is a query', () => {
    expect(() => translateTimeExpression('(SELECT 1 FROM weather)')).toThrow(InvalidRequestException);
  });
});
