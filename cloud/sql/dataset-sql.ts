import { InvalidRequestException } from '../errors.ts';
import type { TranslatedQuery } from './query-types.ts';
import { CAST_TYPES, EXTRACT_FIELDS, translateCall, type FunctionArgs } from './sql-functions.ts';
import { sqlIdentifier, sqlString, tokenizeSql, type SqlToken } from './sql-tokenizer.ts';

/**
 * Checks dataset SQL against IoT Analytics' documented Presto SELECT subset and rebuilds it, token by
 * token, in SQLite's dialect. One SELECT only; every FROM/JOIN names a datastore; no writes, ATTACH,
 * PRAGMA, WITH, parameters or SQLite internals. The output never contains the user's text verbatim
 * except inside re-quoted literals, so nothing slips past as a comment or a second statement.
 */

type Node = { kind: 'token'; token: SqlToken } | { kind: 'group'; children: Node[]; at: number };

export interface DeltaTimeWindow {
  /** Translated timeExpression is compared against these 'YYYY-MM-DD HH:MM:SS.SSS' bounds, [start, end). */
  timeExpression: string;
  start: number;
  end: number;
}

export interface DatasetSqlOptions {
  /** Names of the datastores that exist (matched ignoring case; the stored spelling is used). */
  datastores: readonly string[];
  deltaTime?: DeltaTimeWindow;
}

const MAX_NESTING = 64;

/** Statements and clauses that are not a plain read, and SQLite-only syntax. */
const FORBIDDEN = new Set([
  'INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'UPSERT', 'MERGE', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'ATTACH',
  'DETACH', 'PRAGMA', 'VACUUM', 'REINDEX', 'ANALYZE', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE',
  'WITH', 'RECURSIVE', 'INTO', 'VALUES', 'TRIGGER', 'INDEXED', 'GRANT', 'REVOKE', 'CALL', 'EXECUTE', 'PREPARE',
  'EXPLAIN', 'DESCRIBE', 'SHOW', 'SET', 'RETURNING', 'CONFLICT',
]);

const KEYWORDS = new Set([
  'SELECT', 'DISTINCT', 'ALL', 'FROM', 'WHERE', 'GROUP', 'BY', 'HAVING', 'ORDER', 'ASC', 'DESC', 'NULLS', 'FIRST',
  'LAST', 'LIMIT', 'OFFSET', 'JOIN', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'OUTER', 'CROSS', 'ON', 'USING', 'UNION',
  'INTERSECT', 'EXCEPT', 'AS', 'AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE', 'BETWEEN', 'LIKE', 'ESCAPE',
  'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'EXISTS', 'OVER', 'PARTITION', 'ROWS', 'RANGE', 'UNBOUNDED', 'PRECEDING',
  'FOLLOWING', 'CURRENT', 'ROW', 'WINDOW', 'FILTER',
]);

/** Keywords after which a FROM-list ends. */
const CLAUSE_END = new Set(['WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'OFFSET', 'UNION', 'INTERSECT', 'EXCEPT', 'WINDOW', 'ON', 'USING', 'SELECT']);
const TIMESTAMP_FORMAT_JS = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

function fail(message: string, at?: number): never {
  throw new InvalidRequestException(`Dataset SQL: ${message}${at === undefined ? '' : ` at character ${at + 1}`}.`);
}

function buildTree(tokens: SqlToken[]): Node[] {
  const root: Node[] = [];
  const stack: { children: Node[]; at: number }[] = [{ children: root, at: 0 }];
  for (const token of tokens) {
    if (token.kind === 'lparen') {
      if (stack.length > MAX_NESTING) fail('the query nests too deeply', token.at);
      const group = { kind: 'group' as const, children: [] as Node[], at: token.at };
      stack.at(-1)!.children.push(group);
      stack.push(group);
    } else if (token.kind === 'rparen') {
      if (stack.length === 1) fail('a ")" has no matching "("', token.at);
      stack.pop();
    } else {
      stack.at(-1)!.children.push({ kind: 'token', token });
    }
  }
  if (stack.length > 1) fail('a "(" is not closed', stack.at(-1)!.at);
  return root;
}

const word = (node: Node | undefined): string | undefined =>
  node?.kind === 'token' && node.token.kind === 'word' ? node.token.text.toUpperCase() : undefined;

function splitArgs(children: Node[]): Node[][] {
  if (children.length === 0) return [];
  const args: Node[][] = [[]];
  for (const child of children) {
    if (child.kind === 'token' && child.token.kind === 'comma') args.push([]);
    else args.at(-1)!.push(child);
  }
  return args;
}

class Translator {
  readonly params: (string | number)[] = [];
  readonly used = new Set<string>();
  private readonly epoch = new Map<string, string>();
  private readonly datastores: Map<string, string>;

  constructor(private readonly options: DatasetSqlOptions) {
    this.datastores = new Map(options.datastores.map((d) => [d.toLowerCase(), d]));
  }

  sequence(nodes: Node[], allowFrom: boolean): string {
    const out: string[] = [];
    let inFromList = false;
    let expectTable = false;
    for (let i = 0; i < nodes.length; i += 1) {
      const node = nodes[i]!;
      const next = nodes[i + 1];
      if (node.kind === 'group') {
        const isQuery = word(node.children[0]) === 'SELECT';
        if (expectTable && !isQuery) fail('FROM and JOIN take a datastore name or a (SELECT ...) subquery', node.at);
        expectTable = false;
        out.push(`(${this.sequence(node.children, isQuery)})`);
        continue;
      }
      const token = node.token;
      if (expectTable) {
        expectTable = false;
        if (token.kind !== 'word' && token.kind !== 'quoted') fail('FROM and JOIN take a datastore name', token.at);
        const consumed = this.tableReference(nodes, i, out);
        i += consumed - 1;
        continue;
      }
      switch (token.kind) {
        case 'string':
          out.push(sqlString(token.text));
          break;
        case 'number':
        case 'dot':
          out.push(token.text);
          break;
        case 'semicolon':
          fail('a dataset holds one SELECT statement; remove the ";" and anything after it', token.at);
          break;
        case 'comma':
          out.push(',');
          if (inFromList) expectTable = true;
          break;
        case 'op':
          if ((token.text === '+' || token.text === '-') && word(next) === 'INTERVAL') {
            i += this.interval(nodes, i, out);
          } else {
            out.push(token.text);
          }
          break;
        case 'quoted':
          out.push(this.identifier(token));
          break;
        case 'word': {
          const upper = token.text.toUpperCase();
          if (next?.kind === 'group' && !KEYWORDS.has(upper)) {
            out.push(this.call(token, next));
            i += 1;
          } else if (FORBIDDEN.has(upper)) {
            fail(`${upper} is not allowed: a dataset is a single SELECT over datastores`, token.at);
          } else if (upper === 'FROM' || upper === 'JOIN') {
            if (!allowFrom) fail(`${upper} is not allowed here`, token.at);
            out.push(upper);
            expectTable = true;
            inFromList = upper === 'FROM' || inFromList;
          } else if (KEYWORDS.has(upper)) {
            if (CLAUSE_END.has(upper)) inFromList = false;
            out.push(upper);
          } else if (upper === 'CURRENT_DATE') {
            out.push("date('now')");
          } else if (upper === 'CURRENT_TIMESTAMP' || upper === 'LOCALTIMESTAMP') {
            out.push(`strftime('%Y-%m-%d %H:%M:%f', 'now')`);
          } else if ((upper === 'DATE' || upper === 'TIMESTAMP') && next?.kind === 'token' && next.token.kind === 'string') {
            out.push(upper === 'DATE' ? `date(${sqlString(next.token.text)})` : `strftime('%Y-%m-%d %H:%M:%f', ${sqlString(next.token.text)})`);
            i += 1;
          } else if (upper === 'INTERVAL') {
            fail("INTERVAL works after + or -, e.g. current_date - INTERVAL '7' DAY", token.at);
          } else {
            out.push(this.identifier(token));
          }
          break;
        }
        default:
          fail(`unexpected "${token.text}"`, token.at);
      }
    }
    if (expectTable) fail('FROM and JOIN must be followed by a datastore name');
    return out.join(' ');
  }

  private identifier(token: SqlToken): string {
    const lower = token.text.toLowerCase();
    if (lower.startsWith('sqlite_') || (lower.startsWith('__') && lower !== '__dt')) {
      fail(`"${token.text}" is not a datastore attribute`, token.at);
    }
    return sqlIdentifier(token.text);
  }

  /** A datastore name with its optional alias; returns how many nodes it used. */
  private tableReference(nodes: Node[], i: number, out: string[]): number {
    const token = (nodes[i] as { token: SqlToken }).token;
    const following = nodes[i + 1];
    if (following?.kind === 'group') fail(`"${token.text}" is a table function; FROM takes a datastore name`, token.at);
    if (following?.kind === 'token' && following.token.kind === 'dot') fail('name datastores without a schema prefix', token.at);
    const name = this.datastores.get(token.text.toLowerCase());
    if (!name) fail(`"${token.text}" is not a datastore; a dataset can only read datastores`, token.at);
    this.used.add(name!);
    let consumed = 1;
    let alias: string | undefined;
    if (word(following) === 'AS') {
      const aliasNode = nodes[i + 2];
      if (aliasNode?.kind !== 'token' || (aliasNode.token.kind !== 'word' && aliasNode.token.kind !== 'quoted')) fail('AS must be followed by a name', token.at);
      alias = (aliasNode as { token: SqlToken }).token.text;
      consumed = 3;
    } else if (following?.kind === 'token' && (following.token.kind === 'quoted' || (following.token.kind === 'word' && !KEYWORDS.has(following.token.text.toUpperCase()) && !FORBIDDEN.has(following.token.text.toUpperCase())))) {
      alias = following.token.text;
      consumed = 2;
    }
    const delta = this.options.deltaTime;
    if (!delta) {
      out.push(sqlIdentifier(name!) + (alias === undefined ? '' : ` AS ${this.identifier({ kind: 'quoted', text: alias, at: token.at })}`));
    } else {
      this.params.push(TIMESTAMP_FORMAT_JS(delta.start), TIMESTAMP_FORMAT_JS(delta.end));
      const te = delta.timeExpression;
      out.push(`(SELECT * FROM ${sqlIdentifier(name!)} WHERE (${te}) >= ? AND (${te}) < ?) AS ${sqlIdentifier(alias ?? name!)}`);
    }
    return consumed;
  }

  /** `x + INTERVAL '7' DAY`: rewrites the term before the operator; returns nodes used beyond the operator. */
  private interval(nodes: Node[], i: number, out: string[]): number {
    const op = (nodes[i] as { token: SqlToken }).token;
    const amount = nodes[i + 2];
    const unitWord = word(nodes[i + 3]);
    const units = ['SECOND', 'MINUTE', 'HOUR', 'DAY', 'MONTH', 'YEAR'];
    if (amount?.kind !== 'token' || amount.token.kind !== 'string' || !/^\s*\d+\s*$/.test(amount.token.text) || !unitWord || !units.includes(unitWord)) {
      fail("write intervals as INTERVAL 'N' DAY (SECOND, MINUTE, HOUR, DAY, MONTH or YEAR)", op.at);
    }
    const previous = out.pop();
    if (previous === undefined) fail('INTERVAL needs a timestamp before the + or -', op.at);
    const n = Number((amount as { token: SqlToken }).token.text);
    out.push(`strftime('%Y-%m-%d %H:%M:%f', ${previous}, '${op.text}${n} ${unitWord!.toLowerCase()}s')`);
    return 3;
  }

  private call(token: SqlToken, group: Node & { kind: 'group' }): string {
    const name = token.text.toLowerCase();
    if (name === 'cast' || name === 'try_cast') return this.cast(group);
    if (name === 'extract') return this.extract(group);
    const args = splitArgs(group.children);
    const translated: FunctionArgs = { sql: [], literal: [], epoch: [] };
    for (const arg of args) {
      if (arg.length === 0) fail(`${name}() has an empty argument`, token.at);
      const sql = this.sequence(arg, false);
      translated.sql.push(sql);
      const only = arg.length === 1 ? arg[0] : undefined;
      translated.literal.push(only?.kind === 'token' && only.token.kind === 'string' ? only.token.text : undefined);
      translated.epoch.push(this.epoch.get(sql));
    }
    const result = translateCall(name, translated);
    if (name === 'from_unixtime') this.epoch.set(result, translated.sql[0]!);
    return result;
  }

  private cast(group: Node & { kind: 'group' }): string {
    const asIndex = group.children.findIndex((n) => word(n) === 'AS');
    const typeWord = word(group.children[asIndex + 1])?.toLowerCase();
    if (asIndex <= 0 || !typeWord) fail('write CAST(value AS type)', group.at);
    const make = CAST_TYPES[typeWord!];
    if (!make) fail(`CAST to ${typeWord} is not supported; use ${Object.keys(CAST_TYPES).join(', ')}`, group.at);
    const rest = group.children.slice(asIndex + 2);
    // varchar(10), decimal(10, 2): the size changes nothing in SQLite.
    if (rest.length > 1 || (rest.length === 1 && rest[0]!.kind !== 'group')) fail('write CAST(value AS type)', group.at);
    return make!(this.sequence(group.children.slice(0, asIndex), false));
  }

  private extract(group: Node & { kind: 'group' }): string {
    const field = word(group.children[0])?.toLowerCase();
    const fn = field === undefined ? undefined : EXTRACT_FIELDS[field];
    if (!fn || word(group.children[1]) !== 'FROM' || group.children.length < 3) {
      fail(`write EXTRACT(field FROM timestamp) with field one of ${Object.keys(EXTRACT_FIELDS).join(', ')}`, group.at);
    }
    const value = this.sequence(group.children.slice(2), false);
    return translateCall(fn!, { sql: [value], literal: [undefined], epoch: [this.epoch.get(value)] });
  }
}

/** Checks and translates dataset SQL; throws InvalidRequestException with the reason. */
export function translateDatasetSql(sql: string, options: DatasetSqlOptions): TranslatedQuery {
  if (typeof sql !== 'string' || sql.trim() === '') fail('the query is empty; write a SELECT over a datastore');
  const tokens = tokenizeSql(sql);
  // One trailing ";" is harmless and common; anything else after a ";" is a second statement.
  if (tokens.at(-1)?.kind === 'semicolon') tokens.pop();
  const first = tokens[0];
  if (!first || first.kind !== 'word' || first.text.toUpperCase() !== 'SELECT') {
    const upper = first?.kind === 'word' ? first.text.toUpperCase() : undefined;
    if (upper === 'WITH') fail('WITH is not part of IoT Analytics SQL; use a subquery in FROM instead', 0);
    fail('a dataset query must start with SELECT', first?.at ?? 0);
  }
  const translator = new Translator(options);
  const translated = translator.sequence(buildTree(tokens), true);
  return { sql: translated, params: translator.params, datastores: [...translator.used] };
}

/** Translates a deltaTime timeExpression: an expression over a datastore's attributes, no subqueries. */
export function translateTimeExpression(expression: string): string {
  if (typeof expression !== 'string' || expression.trim() === '') fail('deltaTime needs a timeExpression, e.g. from_unixtime(ts / 1000)');
  const tokens = tokenizeSql(expression);
  for (const token of tokens) {
    const upper = token.kind === 'word' ? token.text.toUpperCase() : '';
    if (token.kind === 'semicolon' || upper === 'SELECT' || upper === 'FROM') fail('timeExpression must be an expression over attributes', token.at);
  }
  return new Translator({ datastores: [] }).sequence(buildTree(tokens), false);
}
