import type { Dialect } from './sql-dialect.ts';
import { CAST_TYPES, EXTRACT_FIELDS, TIMESTAMP_FORMAT, translateCall } from './sql-functions.ts';
import { fail } from './sql-parse.ts';
import { sqlIdentifier, sqlString } from './sql-tokenizer.ts';

const INTERVAL_UNITS = ['second', 'minute', 'hour', 'day', 'month', 'year'];

/** SQLite: timestamps are 'YYYY-MM-DD HH:MM:SS.SSS' text (UTC), which sorts and compares correctly. */
export const SQLITE: Dialect = {
  name: 'SQLite',
  sqliteColumnNames: false,
  identifier: sqlIdentifier,
  string: sqlString,
  call: translateCall,
  cast(type, sql) {
    const make = CAST_TYPES[type];
    if (!make) fail(`CAST to ${type} is not supported; use ${Object.keys(CAST_TYPES).join(', ')}`);
    return make!(sql);
  },
  extract(field, args) {
    const fn = EXTRACT_FIELDS[field];
    if (!fn) fail(`write EXTRACT(field FROM timestamp) with field one of ${Object.keys(EXTRACT_FIELDS).join(', ')}`);
    return translateCall(fn!, args);
  },
  interval(value, sign, amount, unit) {
    if (!INTERVAL_UNITS.includes(unit)) fail("write intervals as INTERVAL 'N' DAY (SECOND, MINUTE, HOUR, DAY, MONTH or YEAR)");
    const epoch = value.epoch[0];
    const source = epoch === undefined ? value.sql[0]! : `${epoch}, 'unixepoch'`;
    return `strftime('${TIMESTAMP_FORMAT}', ${source}, '${sign}${amount} ${unit}s')`;
  },
  distinctFrom: (left, right, distinct) => `${left} IS ${distinct ? 'NOT ' : ''}${right}`,
  date: (text) => `date(${sqlString(text)})`,
  timestamp: (text) => `strftime('${TIMESTAMP_FORMAT}', ${sqlString(text)})`,
  // SQLite has no OFFSET without LIMIT; -1 is its "no limit".
  limit: (limit, offset) => `LIMIT ${limit ?? -1}${offset === undefined ? '' : ` OFFSET ${offset}`}`,
  current: (what) => (what === 'date' ? "date('now')" : `strftime('${TIMESTAMP_FORMAT}', 'now')`),
  parameter: () => '?',
  binary: (op, left, right) => `${left} ${op} ${right}`,
  nullsOrder: () => '',
  derivedTable: (sql, alias) => `(${sql})${alias === undefined ? '' : ` AS ${alias}`}`,
};
