import { readFileSync } from 'node:fs';
import { Parser } from 'node-sql-parser';
import { describe, expect, it } from 'vitest';
import { parseExpression, type Expr } from '../../../cloud/engine/expression/parser.ts';
import { tapRecord, WEATHER_FIELDS } from '../../../hardware/core/contract.ts';

/**
 * Text that names the contract's fields but cannot import it (JSON resources, the README) must keep
 * naming only fields the contract has, so a renamed field cannot silently empty a dataset's column.
 */

const resources = JSON.parse(readFileSync('cloud/resources/default.json', 'utf8')) as {
  pipelines: Array<{ pipelineName: string; pipelineActivities: Array<Record<string, Record<string, unknown>>> }>;
  datasets: Array<{ datasetName: string; actions: Array<{ queryAction: { sqlQuery: string } }> }>;
};
/** What the cloud adds to every record: the envelope's deviceId, and the record's own time. */
const ADDED = ['device_id', 'ts'];

function sqlColumns(sql: string): string[] {
  return new Parser().columnList(sql, { database: 'trino' }).map((c) => c.split('::')[2]!);
}

function attributes(expr: Expr): string[] {
  switch (expr.kind) {
    case 'attribute': return [expr.path[0]!];
    case 'call': return expr.args.flatMap(attributes);
    case 'binary': return [...attributes(expr.left), ...attributes(expr.right)];
    case 'negate': case 'not': case 'isNull': return attributes(expr.operand);
    case 'in': return [...attributes(expr.operand), ...expr.list.flatMap(attributes)];
    default: return [];
  }
}

describe('copies of the field list outside TypeScript', () => {
  it('default.json: weather_daily and the weather pipeline name only weather record fields', () => {
    const weather = [...ADDED, ...WEATHER_FIELDS];
    const sql = resources.datasets.find((d) => d.datasetName === 'weather_daily')!.actions[0]!.queryAction.sqlQuery;
    const columns = sqlColumns(sql);
    expect(columns).toContain('ambient_temperature');
    expect(columns.filter((c) => !weather.includes(c))).toEqual([]);
    const pipeline = resources.pipelines.find((p) => p.pipelineName === 'weather_pipeline')!;
    const expressions = pipeline.pipelineActivities.flatMap((a) => [a.math?.math, a.filter?.filter]).filter((e): e is string => typeof e === 'string');
    expect(expressions.length).toBeGreaterThan(0);
    const used = expressions.flatMap((e) => attributes(parseExpression(e)));
    expect(used).toContain('humidity');
    expect(used.filter((a) => !weather.includes(a))).toEqual([]);
  });

  it('default.json: taps_weekly names only tap record fields', () => {
    const sql = resources.datasets.find((d) => d.datasetName === 'taps_weekly')!.actions[0]!.queryAction.sqlQuery;
    const taps = [...ADDED, ...Object.keys(tapRecord.shape)];
    expect(sqlColumns(sql).filter((c) => !taps.includes(c))).toEqual([]);
  });

  it("README's record table lists exactly the contract's fields", () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('## What a record holds'), readme.indexOf('## Folders'));
    const rows = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(['ts', ...WEATHER_FIELDS, 'sensors']);
  });
});
