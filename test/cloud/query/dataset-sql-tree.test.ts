import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRequestException } from '../../../cloud/engine/errors.ts';
import { translateDatasetSql, translateTimeExpression } from '../../../cloud/query/dataset-sql.ts';
import { BACKENDS, openBackend, stopBackends, type SqlBackend, type TableSpec } from './sql-backends.ts';

// Issue 9, defect 5 and part of 8: dataset SQL read as a syntax tree. Results are checked by running the
// written SQL on SQLite with the functions the query process registers, and on PostgreSQL with its helpers
// (issue 12): one expected result for both.

const datastores = ['weather', 'taps'];
const translate = (sql: string) => translateDatasetSql(sql, { datastores });
const t0 = Date.UTC(2024, 0, 3, 13, 45, 30, 250);

const weather: unknown[][] = [];
for (let i = 0; i < 10; i += 1) {
  weather.push([i < 5 ? 's1' : 's2', t0 + i * 3600_000, i + 1, i % 3 === 0 ? null : i % 2, new Date(t0 + i * 3600_000).toISOString().replace('T', ' ').replace('Z', ''), `https://example.org:8443/p/${i}?q=${i}#f`]);
}
const tables: TableSpec[] = [
  { name: 'weather', columns: [['device_id', 'text'], ['ts', 'real'], ['temp', 'real'], ['rain', 'real'], ['at', 'text'], ['url', 'text']], rows: weather },
  { name: 'taps', columns: [['device_id', 'text'], ['ts', 'real'], ['object_id', 'text']], rows: [] },
];

afterAll(() => stopBackends());

describe.each(BACKENDS)('dataset SQL tree on %s', (backend) => {
  let b: SqlBackend;
  const run = (sql: string) => b.run(sql);
  beforeAll(async () => {
    b = await openBackend(backend, tables);
  });
  afterAll(() => b?.close());

  describe('INTERVAL arithmetic', () => {
    it('subtracts from any timestamp expression, not just the token before the operator', async () => {
      const [row] = await run(`SELECT w.at - INTERVAL '1' DAY AS a, from_unixtime(w.ts / 1000) + INTERVAL '90' MINUTE AS b,
        date_trunc('hour', from_unixtime(ts / 1000)) - INTERVAL '2' HOUR AS c FROM weather w WHERE temp = 1`);
      expect(row).toEqual({ a: '2024-01-02 13:45:30.250', b: '2024-01-03 15:15:30.250', c: '2024-01-03 11:00:00.000' });
    });

    it('filters on a window relative to a timestamp literal', async () => {
      const rows = await run(`SELECT temp FROM weather WHERE from_unixtime(ts / 1000) >= TIMESTAMP '2024-01-03 20:00:00' - INTERVAL '1' HOUR ORDER BY temp`);
      expect(rows.map((r) => r.temp)).toEqual([7, 8, 9, 10]);
    });

    it('refuses an interval that is not a whole number of a known unit', async () => {
      expect(() => translate("SELECT at - INTERVAL 'x' DAY FROM weather")).toThrow(/INTERVAL 'N' DAY/);
      expect(() => translate("SELECT INTERVAL '1' DAY FROM weather")).toThrow(/INTERVAL works after \+ or -/);
    });
  });

  describe('IS [NOT] DISTINCT FROM', () => {
    it('compares with NULL as a value', async () => {
      const same = await run('SELECT temp FROM weather WHERE rain IS NOT DISTINCT FROM NULL ORDER BY temp');
      expect(same.map((r) => r.temp)).toEqual([1, 4, 7, 10]);
      const differ = await run('SELECT count(*) AS n FROM weather WHERE rain IS DISTINCT FROM 1');
      expect(differ).toEqual([{ n: 7 }]);
    });

    it('keeps AND binding tighter than OR around it', async () => {
      const rows = await run('SELECT temp FROM weather WHERE temp = 1 AND rain IS NOT DISTINCT FROM NULL OR temp = 2 AND rain = 1 ORDER BY temp');
      expect(rows.map((r) => r.temp)).toEqual([1, 2]);
      expect((await run('SELECT temp FROM weather WHERE temp = 3 OR temp = 4 AND rain = 1 ORDER BY temp')).map((r) => r.temp)).toEqual([3]);
    });
  });

  describe('functions of IoT Analytics SQL that were missing', () => {
    it('approx_percentile is the exact percentile of the group', async () => {
      const rows = await run('SELECT device_id, approx_percentile(temp, 0.5) AS median, approx_percentile(temp, 1) AS top FROM weather GROUP BY 1 ORDER BY 1');
      expect(rows).toEqual([{ device_id: 's1', median: 3, top: 5 }, { device_id: 's2', median: 8, top: 10 }]);
      await expect(run('SELECT approx_percentile(temp, 2) FROM weather')).rejects.toThrow(/between 0 and 1/);
    });

    it('runs regexp, string, URL, ISO 8601 and max_by functions', async () => {
      // arbitrary(url): a column neither grouped nor aggregated is refused by Presto and PostgreSQL (SQLite takes any row's).
      const [row] = await run(`SELECT regexp_like(device_id, '^s[0-9]$') AS re, regexp_extract(arbitrary(url), 'p/([0-9]+)', 1) AS n, split_part('a,b,c', ',', 2) AS part,
        lpad('7', 3, '0') AS padded, url_extract_host(arbitrary(url)) AS host, url_extract_port(arbitrary(url)) AS port, url_extract_parameter(arbitrary(url), 'q') AS q,
        from_iso8601_timestamp('2024-01-03T13:45:30.250Z') AS iso, max_by(temp, ts) AS last_temp, starts_with(device_id, 's') AS s
        FROM weather WHERE device_id = 's1' GROUP BY device_id`);
      expect(row).toEqual({ re: 1, n: '0', part: 'b', padded: '007', host: 'example.org', port: 8443, q: '0', iso: '2024-01-03 13:45:30.250', last_temp: 5, s: 1 });
    });

    it('reads a backslash in a string as Presto does: a plain character', async () => {
      expect(await run(`SELECT 'a\\' AS s FROM weather LIMIT 1`)).toEqual([{ s: 'a\\' }]);
    });
  });

  describe('the function allowlist holds however the name is written', () => {
    const refused = [
      `SELECT "randomblob"(8), "printf"('%s', 'x') FROM weather`,
      `SELECT "load_extension"('/tmp/evil') FROM weather`,
      `SELECT RandomBlob(8) FROM weather`,
      `SELECT "RANDOMBLOB"(8) FROM weather`,
      `SELECT temp FROM weather WHERE "printf"('%s', temp) = '1'`,
    ];
    for (const sql of refused) {
      it(`refuses ${sql}`, () => {
        expect(() => translate(sql)).toThrow(InvalidRequestException);
        expect(() => translate(sql)).toThrow(/function (randomblob|printf|load_extension)\(\) is not supported/);
      });
    }

    it('refuses schema-qualified functions and table functions', async () => {
      expect(() => translate('SELECT main.randomblob(8) FROM weather')).toThrow(/without a schema prefix/);
      expect(() => translate('SELECT "main"."abs"(1) FROM weather')).toThrow(/without a schema prefix/);
      expect(() => translate(`SELECT * FROM "pragma_table_info"('weather')`)).toThrow(/table function/);
    });

    it('accepts an allowed function quoted or in mixed case', async () => {
      expect(await run('SELECT "ABS"(-temp) AS a, Round(temp / 3, 1) AS r FROM weather WHERE temp = 2')).toEqual([{ a: 2, r: 0.7 }]);
    });

    it('refuses a placeholder-shaped name typed by the user', async () => {
      expect(() => translate('SELECT __hq0 FROM weather')).toThrow(/not a datastore attribute/);
    });
  });

  describe('the rest of the SELECT survives the trip through the tree', () => {
    it('windows, FILTER, DISTINCT aggregates, UNION, IN subqueries, LIMIT and OFFSET', async () => {
      const rows = await run(`SELECT device_id, temp, row_number() OVER (PARTITION BY device_id ORDER BY temp DESC NULLS LAST) AS rn,
        count(rain) OVER (PARTITION BY device_id) AS wet
        FROM weather WHERE device_id IN (SELECT device_id FROM weather WHERE temp > 9) ORDER BY temp LIMIT 2 OFFSET 1`);
      expect(rows).toEqual([
        { device_id: 's2', temp: 7, rn: 4, wet: 3 },
        { device_id: 's2', temp: 8, rn: 3, wet: 3 },
      ]);
      expect(await run('SELECT count(DISTINCT rain) AS kinds, sum(temp) FILTER (WHERE rain = 1) AS wet FROM weather')).toEqual([{ kinds: 2, wet: 16 }]);
      expect(await run('SELECT device_id FROM weather WHERE temp = 1 UNION ALL SELECT device_id FROM weather WHERE temp = 10 ORDER BY 1')).toEqual([{ device_id: 's1' }, { device_id: 's2' }]);
    });

    it('scalar subqueries and EXISTS, which the grammar reads only after FROM, JOIN and IN', async () => {
      expect(await run('SELECT temp, (SELECT max(temp) FROM weather) AS top FROM weather WHERE temp > (SELECT avg(temp) FROM weather WHERE temp < (SELECT 9)) ORDER BY temp DESC LIMIT 1')).toEqual([{ temp: 10, top: 10 }]);
      expect(await run('SELECT count(*) AS n FROM weather w WHERE EXISTS (SELECT 1 FROM weather v WHERE v.temp = w.temp + 9) AND NOT EXISTS (SELECT 1 FROM taps)')).toEqual([{ n: 1 }]);
      expect(() => translate('SELECT temp FROM weather WHERE temp = (SELECT max(name) FROM sqlite_master)')).toThrow(/"sqlite_master" is not a datastore/);
      expect(() => translate('SELECT __hx0() FROM weather')).toThrow(/not a datastore attribute/);
    });

    it('never writes two minus signs together, which SQLite would read as a comment', async () => {
      expect(await run('SELECT - -1 AS a, 2 - -1 AS b, -temp AS c, 1e3 AS d FROM weather WHERE temp = 1')).toEqual([{ a: 1, b: 3, c: -1, d: 1000 }]);
      expect(translate('SELECT - -1 FROM weather').sql).not.toContain('--');
    });

    it('refuses very long operator chains with a reason, not a crash', async () => {
      const chain = Array.from({ length: 8000 }, () => 'temp').join(' + ');
      expect(() => translate(`SELECT ${chain} FROM weather`)).toThrow(/nests too deeply/);
    });

    it('refuses a clause the grammar reads but the writer does not write, rather than dropping it', async () => {
      expect(() => translate('SELECT temp FROM weather TABLESAMPLE BERNOULLI (10)')).toThrow(/TABLESAMPLE is not supported/);
      expect(() => translate('SELECT device_id COLLATE nocase FROM weather')).toThrow(/COLLATE is not supported/);
    });

    it('LIKE with ESCAPE', async () => {
      expect(await run("SELECT count(*) AS n FROM weather WHERE 'a%b' LIKE 'a!%%' ESCAPE '!' AND 'axb' NOT LIKE 'a!%%' ESCAPE '!'")).toEqual([{ n: 10 }]);
    });

    it('OFFSET and LIMIT in either order', async () => {
      expect((await run('SELECT temp FROM weather ORDER BY temp OFFSET 2 LIMIT 2')).map((r) => r.temp)).toEqual([3, 4]);
      expect((await run('SELECT temp FROM weather ORDER BY temp LIMIT 2 OFFSET 3')).map((r) => r.temp)).toEqual([4, 5]);
      expect((await run('SELECT temp FROM weather ORDER BY temp OFFSET 8')).map((r) => r.temp)).toEqual([9, 10]);
    });

    it('try_cast and sized types', async () => {
      expect(await run(`SELECT try_cast(temp AS varchar(10)) AS s, CAST(temp AS decimal(10, 2)) AS d FROM weather WHERE temp = 1`)).toEqual([{ s: '1.0', d: 1 }]);
    });

    it('tells where a query it cannot read goes wrong', async () => {
      expect(() => translate('SELECT temp FROM weather WHERE temp = = 1')).toThrow(/not valid Presto SQL near character 39 \("= 1"\)/);
    });

    it('translates a timeExpression as one expression', async () => {
      expect(translateTimeExpression('from_unixtime(ts / 1000)')).toBe(`strftime('%Y-%m-%d %H:%M:%f', "ts" / 1000, 'unixepoch')`);
      expect(() => translateTimeExpression('ts, temp')).toThrow(/one expression/);
    });
  });
});
