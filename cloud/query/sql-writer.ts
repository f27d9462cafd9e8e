import type { Dialect } from './sql-dialect.ts';
import type { FunctionArgs } from './sql-functions.ts';
import { SQLITE } from './sqlite-dialect.ts';
import { fail, isStringPlaceholder, type AstNode, type ParsedSql } from './sql-parse.ts';

/**
 * Checks a parsed dataset query and writes it in a backend's dialect. Nothing of the user's text is
 * copied: names and strings are re-quoted by the dialect, numbers are re-read, keywords and operators
 * come from the lists below. Anything the walker does not know is refused, so a construct the grammar
 * accepts but this file does not check can never reach the backend.
 */

export interface WriterOptions {
  /** Names of the datastores that exist (matched ignoring case; the stored spelling is used). */
  datastores: readonly string[];
  /** Wraps each datastore read as `(SELECT * FROM d WHERE (te) >= ? AND (te) < ?)`. */
  window?: { timeExpression: string; start: string; end: string };
}

const BINARY = new Set(['=', '<>', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '||', 'AND', 'OR', 'LIKE', 'NOT LIKE']);
const JOINS = /^(?:INNER |LEFT (?:OUTER )?|RIGHT (?:OUTER )?|FULL (?:OUTER )?|CROSS )?JOIN$/;
const SET_OPS: Readonly<Record<string, string>> = { union: 'UNION', 'union all': 'UNION ALL', intersect: 'INTERSECT', except: 'EXCEPT' };
const FRAME = /^(?:rows|range|unbounded preceding|unbounded following|current row|\d+ preceding|\d+ following)$/i;
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const CURRENT: Readonly<Record<string, 'date' | 'timestamp'>> = { current_date: 'date', current_timestamp: 'timestamp', localtimestamp: 'timestamp' };

const SELECT_KEYS = new Set(['type', 'with', 'distinct', 'columns', 'into', 'from', 'where', 'groupby', 'having', 'orderby', 'limit', '_limit', 'window', '_next', 'set_op']);
const FROM_KEYS = new Set(['db', 'schema', 'table', 'as', 'join', 'on', 'using', 'expr', 'prefix']);

/** A clause the grammar read but this writer does not write (TABLESAMPLE, ...) is refused, never dropped. */
function onlyKnown(node: AstNode, known: ReadonlySet<string>): void {
  for (const [key, value] of Object.entries(node)) {
    if (known.has(key) || value == null || (Array.isArray(value) && value.length === 0)) continue;
    fail(`${key.replace(/^_+/, '').replaceAll('_', ' ').toUpperCase()} is not supported in dataset SQL`);
  }
}

const obj = (v: unknown): AstNode | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as AstNode) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export class SqlWriter {
  readonly params: string[] = [];
  readonly used = new Set<string>();
  /** Placeholder column names → the names SQLite would give (see TranslatedQuery.columnNames). */
  readonly columnNames: Record<string, string> = {};
  /** Written from_unixtime(x) → x, so date functions over it can read epoch seconds directly. */
  private readonly epoch = new Map<string, string>();
  private readonly datastores: Map<string, string>;
  /** Subqueries in FROM written so far. */
  private derived = 0;

  constructor(private readonly dialect: Dialect, private readonly parsed: ParsedSql, private readonly options: WriterOptions) {
    this.datastores = new Map(options.datastores.map((d) => [d.toLowerCase(), d]));
  }

  /** A placeholder back to the quoted name it stands for, or the word as written. */
  private name(value: unknown): string {
    const v = obj(value);
    const text = v ? String(v.value) : String(value);
    return this.parsed.names.get(text) ?? text;
  }

  private literal(value: unknown): string {
    if (!isStringPlaceholder(value)) fail('a string literal could not be read');
    return this.parsed.strings.get(value)!;
  }

  private attribute(value: unknown): string {
    const name = this.name(value);
    const lower = name.toLowerCase();
    if (lower.startsWith('sqlite_') || (lower.startsWith('__') && lower !== '__dt')) fail(`"${name}" is not a datastore attribute`);
    return this.dialect.identifier(name);
  }

  select(node: AstNode): string {
    if (node.type !== 'select') fail(`${String(node.type).toUpperCase()} is not allowed: a dataset is a single SELECT over datastores`);
    if (node.with) fail('WITH is not part of IoT Analytics SQL; use a subquery in FROM instead');
    onlyKnown(node, SELECT_KEYS);
    if (obj(node.groupby)) onlyKnown(obj(node.groupby)!, new Set(['columns']));
    if (node.window) fail('named windows (WINDOW w AS ...) are not supported; write the window in OVER (...)');
    if (Object.keys(obj(node.into) ?? {}).some((k) => obj(node.into)![k] != null)) fail('INTO is not allowed: a dataset is a single SELECT over datastores');
    const out = ['SELECT'];
    if (obj(node.distinct)?.type === 'DISTINCT') out.push('DISTINCT');
    out.push(list(node.columns).map((c) => this.column(obj(c)!)).join(', '));
    const from = list(node.from);
    if (from.length > 0) out.push('FROM', this.from(from));
    if (node.where) out.push('WHERE', this.expr(node.where));
    const group = list(obj(node.groupby)?.columns);
    if (group.length > 0) out.push('GROUP BY', group.map((g) => this.expr(g)).join(', '));
    if (node.having) out.push('HAVING', this.expr(node.having));
    const order = list(node.orderby);
    if (order.length > 0) out.push('ORDER BY', this.orderBy(order));
    const limit = obj(node.limit);
    const values = list(limit?.value).map((v) => this.number(v));
    // Presto's own order, OFFSET n LIMIT m, puts the LIMIT in `_limit`.
    const after = list(obj(node._limit)?.value).map((v) => this.number(v));
    if (after.length > 1) fail('write LIMIT with one number');
    if (values.length === 1 && limit!.seperator === 'offset') out.push(this.dialect.limit(after[0], values[0]));
    else if (values.length === 1) out.push(this.dialect.limit(values[0], undefined));
    else if (values.length === 2) out.push(limit!.seperator === ',' ? this.dialect.limit(values[1], values[0]) : this.dialect.limit(values[0], values[1]));
    let sql = out.join(' ');
    const next = obj(node._next);
    if (next) {
      const op = SET_OPS[String(node.set_op).toLowerCase()];
      if (!op) fail(`${String(node.set_op)} is not supported; use UNION [ALL], INTERSECT or EXCEPT`);
      sql += ` ${op} ${this.select(next)}`;
    }
    return sql;
  }

  private number(value: unknown): string {
    const v = obj(value);
    if (v?.type !== 'number' || !Number.isFinite(Number(v.value))) fail('LIMIT and OFFSET take a number');
    return String(Number(v!.value));
  }

  private column(c: AstNode): string {
    const expr = obj(c.expr)!;
    const sql = this.expr(expr);
    if (c.as != null) return `${sql} AS ${this.attribute(c.as)}`;
    if (!this.dialect.sqliteColumnNames || expr.type === 'column_ref' || expr.type === 'star') return sql;
    // The CSV header is one for every backend: SQLite's, which names an expression by its SQL text.
    const placeholder = `__hc${Object.keys(this.columnNames).length + 1}`;
    this.columnNames[placeholder] = new SqlWriter(SQLITE, this.parsed, this.options).expr(expr);
    return `${sql} AS ${this.dialect.identifier(placeholder)}`;
  }

  private orderBy(items: unknown[]): string {
    return items
      .map((item) => {
        const o = obj(item)!;
        const direction = o.type === 'DESC' ? ' DESC' : o.type === 'ASC' ? ' ASC' : '';
        const nulls = typeof o.nulls === 'string' ? ` ${o.nulls.toUpperCase() === 'NULLS FIRST' ? 'NULLS FIRST' : 'NULLS LAST'}` : this.dialect.nullsOrder(o.type === 'DESC');
        return `${this.expr(o.expr)}${direction}${nulls}`;
      })
      .join(', ');
  }

  private from(items: unknown[]): string {
    return items
      .map((item, index) => {
        const f = obj(item)!;
        onlyKnown(f, FROM_KEYS);
        let source: string;
        const sub = obj(obj(f.expr)?.ast);
        if (sub) source = this.dialect.derivedTable(this.select(sub), f.as == null ? undefined : this.attribute(f.as), (this.derived += 1));
        else if (typeof f.table === 'string') source = this.datastore(f);
        else fail('FROM and JOIN take a datastore name or a (SELECT ...) subquery');
        if (index === 0) return source!;
        if (f.join == null) return `, ${source!}`;
        const join = String(f.join).toUpperCase();
        if (!JOINS.test(join)) fail(`${join} is not supported; use [INNER|LEFT|RIGHT|FULL|CROSS] JOIN`);
        let sql = ` ${join} ${source!}`;
        if (f.on) sql += ` ON ${this.expr(f.on)}`;
        const using = list(f.using);
        if (using.length > 0) sql += ` USING (${using.map((u) => this.attribute(u)).join(', ')})`;
        return sql;
      })
      .join('');
  }

  private datastore(f: AstNode): string {
    const written = this.name(f.table);
    if (f.db != null || f.schema != null) fail('name datastores without a schema prefix');
    const name = this.datastores.get(written.toLowerCase());
    if (!name) fail(`"${written}" is not a datastore; a dataset can only read datastores`);
    this.used.add(name!);
    const alias = f.as == null ? undefined : this.attribute(f.as);
    const window = this.options.window;
    if (!window) return this.dialect.identifier(name!) + (alias === undefined ? '' : ` AS ${alias}`);
    this.params.push(window.start, window.end);
    const te = window.timeExpression;
    const [start, end] = [this.dialect.parameter(this.params.length - 1), this.dialect.parameter(this.params.length)];
    return `(SELECT * FROM ${this.dialect.identifier(name!)} WHERE (${te}) >= ${start} AND (${te}) < ${end}) AS ${alias ?? this.dialect.identifier(name!)}`;
  }

  /** One expression; `nested` puts a binary expression in parentheses, so SQLite's precedence never decides. */
  expr(value: unknown, nested = false): string {
    const n = obj(value);
    if (!n) fail('an expression could not be read');
    const wrap = (sql: string) => (nested ? `(${sql})` : sql);
    if (n!.collate != null) fail('COLLATE is not supported in dataset SQL');
    if (n!.array_index != null) fail('array subscripts are not supported: nested values are JSON text; use json_extract_scalar');
    if (n!.ast) return `(${this.select(obj(n!.ast)!)})`;
    switch (n!.type) {
      case 'column_ref':
        return this.columnRef(n!);
      case 'number':
      case 'bigint': {
        const text = String(n!.value);
        if (!NUMBER.test(text)) fail(`the number ${text} could not be read`);
        // In parentheses when negative, so no "-" of ours can ever meet it and make "--", a comment.
        return text.startsWith('-') ? `(${text})` : text;
      }
      case 'single_quote_string':
        return this.dialect.string(this.literal(n!.value));
      case 'bool':
        return n!.value ? 'TRUE' : 'FALSE';
      case 'null':
        return 'NULL';
      case 'star':
        return '*';
      case 'date':
        return this.dialect.date(this.literal(n!.value));
      case 'timestamp':
        return this.dialect.timestamp(this.literal(n!.value));
      case 'expr_list':
        return `(${list(n!.value).map((v) => this.expr(v)).join(', ')})`;
      case 'unary_expr': {
        const op = String(n!.operator).toUpperCase();
        if (op !== 'NOT' && op !== '-' && op !== '+') fail(`the operator ${op} is not supported`);
        return wrap(`${op === 'NOT' ? 'NOT' : op} ${this.expr(n!.expr, true)}`);
      }
      case 'binary_expr':
        return wrap(this.binary(n!));
      case 'case':
        return this.caseExpr(n!);
      case 'cast':
        return this.cast(n!);
      case 'extract': {
        const args = obj(n!.args)!;
        return this.dialect.extract(String(args.field).toLowerCase(), this.args([args.source]));
      }
      case 'function':
      case 'aggr_func':
        return this.call(n!);
      case 'interval':
        fail("INTERVAL works after + or -, e.g. current_date - INTERVAL '7' DAY");
        break;
      default:
        fail(`${String(n!.type).replaceAll('_', ' ')} is not supported in dataset SQL`);
    }
    return '';
  }

  private columnRef(n: AstNode): string {
    if (n.schema != null) fail('name attributes as attribute or alias.attribute, without a schema prefix');
    const table = n.table == null ? '' : `${this.attribute(n.table)}.`;
    if (n.column === '*') return `${table}*`;
    const column = obj(n.column);
    return table + this.attribute(column ? column.expr : n.column);
  }

  private binary(n: AstNode): string {
    const op = String(n.operator).toUpperCase();
    const right = obj(n.right);
    if ((op === '+' || op === '-') && right?.type === 'interval') return this.interval(n.left, op, right);
    if (op === 'IS' || op === 'IS NOT') {
      if (right?.type === 'null') return `${this.expr(n.left, true)} ${op} NULL`;
      return this.dialect.distinctFrom(this.expr(n.left, true), this.expr(n.right, true), op === 'IS NOT');
    }
    if (op === 'IN' || op === 'NOT IN') return `${this.expr(n.left, true)} ${op} ${this.inList(right)}`;
    if (op === 'BETWEEN' || op === 'NOT BETWEEN') {
      const [low, high] = list(right?.value);
      return `${this.expr(n.left, true)} ${op} ${this.expr(low, true)} AND ${this.expr(high, true)}`;
    }
    if (!BINARY.has(op)) fail(`the operator ${op} is not supported`);
    const escape = obj(obj(right?.escape)?.value);
    if ((op === 'LIKE' || op === 'NOT LIKE') && escape) {
      return this.dialect.binary(op, this.expr(n.left, true), `${this.dialect.string(this.literal(right!.value))} ESCAPE ${this.expr(escape)}`);
    }
    return this.dialect.binary(op, this.expr(n.left, true), this.expr(n.right, true));
  }

  private inList(right: AstNode | undefined): string {
    if (right?.type !== 'expr_list') fail('IN takes a list of values or a (SELECT ...) subquery');
    const items = list(right!.value);
    const only = obj(items[0]);
    if (items.length === 1 && only?.ast) return this.expr(only);
    return `(${items.map((v) => this.expr(v)).join(', ')})`;
  }

  private interval(left: unknown, op: '+' | '-', right: AstNode): string {
    const amount = obj(right.expr);
    const text = amount?.type === 'single_quote_string' ? this.literal(amount.value) : amount?.type === 'number' ? String(amount.value) : '';
    if (!/^\s*\d+\s*$/.test(text)) fail("write intervals as INTERVAL 'N' DAY (SECOND, MINUTE, HOUR, DAY, MONTH or YEAR)");
    return this.dialect.interval(this.args([left]), op, Number(text), String(right.unit).toLowerCase());
  }

  private caseExpr(n: AstNode): string {
    const out = ['CASE'];
    if (n.expr) out.push(this.expr(n.expr, true));
    for (const arm of list(n.args).map(obj)) {
      if (arm?.type === 'when') out.push('WHEN', this.expr(arm.cond), 'THEN', this.expr(arm.result));
      else if (arm?.type === 'else') out.push('ELSE', this.expr(arm.result));
    }
    return `${out.join(' ')} END`;
  }

  private cast(n: AstNode): string {
    const target = obj(list(n.target)[0]);
    const type = String(target?.dataType ?? '').toLowerCase().split(/\s+/)[0]!;
    if (!type) fail('write CAST(value AS type)');
    return this.dialect.cast(type, this.expr(n.expr));
  }

  /** Arguments written, with each one's literal text and epoch-seconds source where it has one. */
  private args(values: unknown[]): FunctionArgs {
    const out: FunctionArgs = { sql: [], literal: [], epoch: [] };
    for (const value of values) {
      const sql = this.expr(value);
      const v = obj(value);
      out.sql.push(sql);
      out.literal.push(v?.type === 'single_quote_string' ? this.literal(v.value) : undefined);
      out.epoch.push(this.epoch.get(sql));
    }
    return out;
  }

  private call(n: AstNode): string {
    const nameNode = obj(n.name);
    if (nameNode?.schema != null) fail('call functions without a schema prefix');
    const parts = nameNode ? list(nameNode.name).concat(Array.isArray(nameNode.name) ? [] : [nameNode.name]) : [n.name];
    if (parts.length !== 1) fail('call functions without a schema prefix');
    const subquery = this.parsed.subqueries.get(this.name(parts[0]));
    if (subquery) return `${subquery.exists ? 'EXISTS ' : ''}(${this.select(subquery.ast)})`;
    // Quoted, mixed-case or plain, the name is checked as the text it stands for.
    const name = this.name(parts[0]).toLowerCase();
    let sql: string;
    const current = CURRENT[name];
    if (current && n.args === undefined) sql = this.dialect.current(current);
    else {
      const args = obj(n.args);
      const argList = args?.type === 'expr_list' ? list(args.value) : args?.expr ? [args.expr] : [];
      const written = this.args(argList);
      if (args?.distinct) written.sql[0] = `DISTINCT ${written.sql[0]}`;
      sql = this.dialect.call(name, written);
      if (name === 'from_unixtime') this.epoch.set(sql, written.sql[0]!);
    }
    const filter = obj(n.filter);
    if (filter) sql += ` FILTER (WHERE ${this.expr(filter.where)})`;
    if (n.over) sql += ` OVER ${this.over(obj(n.over)!)}`;
    return sql;
  }

  private over(over: AstNode): string {
    const spec = obj(obj(over.as_window_specification)?.window_specification);
    if (!spec || spec.name != null) fail('named windows are not supported; write the window in OVER (...)');
    const out: string[] = [];
    const partition = list(spec!.partitionby);
    if (partition.length > 0) out.push('PARTITION BY', partition.map((p) => this.expr(obj(p)!.expr)).join(', '));
    const order = list(spec!.orderby);
    if (order.length > 0) out.push('ORDER BY', this.orderBy(order));
    if (spec!.window_frame_clause) out.push(this.frame(obj(spec!.window_frame_clause)!));
    return `(${out.join(' ')})`;
  }

  private frame(clause: AstNode): string {
    const piece = (v: unknown): string => {
      const text = String(obj(v)?.value ?? '');
      if (!FRAME.test(text)) fail('write window frames as ROWS|RANGE BETWEEN ... AND ... (UNBOUNDED PRECEDING, N PRECEDING, CURRENT ROW, N FOLLOWING, UNBOUNDED FOLLOWING)');
      return text.toUpperCase();
    };
    if (clause.type === 'binary_expr' && String(clause.operator).toUpperCase() === 'BETWEEN') {
      const [from, to] = list(obj(clause.right)?.value);
      return `${piece(clause.left)} BETWEEN ${piece(from)} AND ${piece(to)}`;
    }
    return piece(clause);
  }
}
