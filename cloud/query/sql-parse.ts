import { createRequire } from 'node:module';
import type { Parser as SqlParser } from 'node-sql-parser';
import { InvalidRequestException } from '../engine/errors.ts';
import { sqlString, tokenizeSql, type SqlToken } from './sql-tokenizer.ts';

/**
 * Dataset SQL to a syntax tree: our tokenizer first, then node-sql-parser's Trino grammar (the one of
 * its grammars closest to Presto 0.217, which IoT Analytics runs: it reads INTERVAL literals, NULLS
 * FIRST/LAST, OFFSET and try_cast; the Athena grammar does not). Only the Trino build is imported:
 * the whole package holds every dialect and takes several times as long to load.
 *
 * The tokenizer runs first because it keeps refusals the grammar cannot give with a useful message
 * (comments hiding a ";", parameters, [x] and backtick quoting), and because three things are handed to
 * the grammar in a form it reads correctly:
 * - every quoted name and every string literal becomes a placeholder, and the tree's placeholders are
 *   mapped back to the exact text: the grammar misreads `"a""b"` (as `"a" AS "b"`), refuses a quoted
 *   function name, and treats a backslash in a string as an escape, which Presto does not;
 * - `IS [NOT] DISTINCT FROM`, which the grammar lacks, becomes `IS [NOT]`, which it reads as a binary
 *   operator and which is null-safe comparison in SQLite;
 * - the grammar chains AND and OR right-nested with no precedence (`a AND b OR c` as `a AND (b OR c)`);
 *   reassociate() rebuilds the chain with AND binding tighter, as in Presto.
 */

export type AstNode = Record<string, unknown>;

export interface ParsedSql {
  ast: AstNode;
  /** Placeholder → the quoted name it stands for. */
  names: Map<string, string>;
  /** Placeholder → the string literal's content. */
  strings: Map<string, string>;
  /** Placeholder call → a subquery parsed on its own (`exists` when it was EXISTS (SELECT ...)). */
  subqueries: Map<string, { ast: AstNode; exists: boolean }>;
}

/** Placeholders (quoted names __hq, strings __hs, subqueries __hx); a user's own word of this shape is refused. */
export const NAME_PLACEHOLDER = /^__h[qsx]\d+$/i;
/** Every string literal is one of these, so no other string can be mistaken for one. */
const STRING_PLACEHOLDER = /^__hs\d+$/;
const MAX_NESTING = 64;

/**
 * Words before "(" that the grammar must see as written: keywords, and the calls it has its own syntax
 * for. Any other function name goes to the grammar as a placeholder, as the grammar refuses some
 * names it reserves (variance(x) does not parse) and a quoted name must be checked like a plain one.
 */
const GRAMMAR_WORDS = new Set([
  'CAST', 'TRY_CAST', 'EXTRACT', 'COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT',
  'IN', 'EXISTS', 'AS', 'ON', 'USING', 'OVER', 'FILTER', 'IS', 'BETWEEN', 'LIKE', 'CASE', 'WHEN', 'THEN', 'ELSE',
  'END', 'JOIN', 'UNION', 'INTERSECT', 'EXCEPT', 'ALL', 'DISTINCT', 'BY', 'HAVING', 'LIMIT', 'OFFSET', 'VALUES',
]);

/** Statements and clauses that are not a plain read, and SQLite-only syntax. */
const FORBIDDEN = new Set([
  'INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'UPSERT', 'MERGE', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'ATTACH',
  'DETACH', 'PRAGMA', 'VACUUM', 'REINDEX', 'ANALYZE', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE',
  'WITH', 'RECURSIVE', 'INTO', 'VALUES', 'TRIGGER', 'INDEXED', 'GRANT', 'REVOKE', 'CALL', 'EXECUTE', 'PREPARE',
  'EXPLAIN', 'DESCRIBE', 'SHOW', 'SET', 'RETURNING', 'CONFLICT',
]);

export function fail(message: string, at?: number): never {
  throw new InvalidRequestException(`Dataset SQL: ${message}${at === undefined ? '' : ` at character ${at + 1}`}.`);
}

// The per-dialect build is CommonJS with no named ESM exports, hence require.
const { Parser } = createRequire(import.meta.url)('node-sql-parser/build/trino.js') as { Parser: new () => SqlParser };
const parser = new Parser();
const upper = (t: SqlToken | undefined): string | undefined => (t?.kind === 'word' ? t.text.toUpperCase() : undefined);

/** The checks that need only tokens: statement shape, brackets, forbidden words, what follows FROM. */
function checkTokens(tokens: SqlToken[], query: boolean): void {
  let depth = 0;
  const opened: number[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i]!;
    const word = upper(token);
    if (token.kind === 'semicolon') fail('a dataset holds one SELECT statement; remove the ";" and anything after it', token.at);
    if (token.kind === 'lparen') {
      depth += 1;
      opened.push(token.at);
      if (depth > MAX_NESTING) fail('the query nests too deeply', token.at);
    } else if (token.kind === 'rparen') {
      if (depth === 0) fail('a ")" has no matching "("', token.at);
      depth -= 1;
      opened.pop();
    } else if (word !== undefined && NAME_PLACEHOLDER.test(token.text)) {
      fail(`"${token.text}" is not a datastore attribute`, token.at);
    } else if (word !== undefined && (word === 'FROM' || word === 'JOIN') && query && !(upper(tokens[i - 3]) === 'EXTRACT' && tokens[i - 2]?.kind === 'lparen')) {
      const next = tokens[i + 1];
      if (!next) fail(`${word} must be followed by a datastore name`, token.at);
      if (next!.kind === 'lparen' && upper(tokens[i + 2]) !== 'SELECT') fail('FROM and JOIN take a datastore name or a (SELECT ...) subquery', next!.at);
      if ((next!.kind === 'word' || next!.kind === 'quoted') && tokens[i + 2]?.kind === 'lparen') {
        fail(`"${next!.text}" is a table function; FROM takes a datastore name`, next!.at);
      }
    } else if (word !== undefined && FORBIDDEN.has(word)) {
      fail(`${word} is not allowed: a dataset is a single SELECT over datastores`, token.at);
    }
  }
  if (depth > 0) fail('a "(" is not closed', opened.at(-1));
}

/** Tokens back to text for the grammar, with placeholders; `at` maps each output offset to the source. */
function render(tokens: SqlToken[], names: Map<string, string>, strings: Map<string, string>): { text: string; at: number[][] } {
  const parts: string[] = [];
  const at: number[][] = [];
  let length = 0;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i]!;
    let text = token.text;
    const callee = token.kind === 'word' && tokens[i + 1]?.kind === 'lparen' && !GRAMMAR_WORDS.has(token.text.toUpperCase()) && upper(tokens[i - 1]) !== 'AS';
    if (token.kind === 'quoted' || callee) {
      text = `__hq${names.size}`;
      names.set(text, token.text);
    } else if (token.kind === 'string') {
      const key = `__hs${strings.size}`;
      strings.set(key, token.text);
      text = sqlString(key);
    } else if (upper(token) === 'IS' && upper(tokens[i + 1]) === 'NOT' && upper(tokens[i + 2]) === 'DISTINCT' && upper(tokens[i + 3]) === 'FROM') {
      text = 'IS';
      i += 3;
    } else if (upper(token) === 'IS' && upper(tokens[i + 1]) === 'DISTINCT' && upper(tokens[i + 2]) === 'FROM') {
      text = 'IS NOT';
      i += 2;
    }
    at.push([length, token.at]);
    parts.push(text);
    length += text.length + 1;
  }
  return { text: parts.join(' '), at };
}

function sourceOffset(at: number[][], offset: number): number {
  let best = 0;
  for (const [out, source] of at) if (out! <= offset) best = source!;
  return best;
}

/** Parses a dataset query (or, with `query` false, `SELECT <expression>` for a timeExpression). */
export function parseDatasetSql(sql: string, query = true): ParsedSql {
  const tokens = tokenizeSql(sql);
  // One trailing ";" is harmless and common; anything else after a ";" is a second statement.
  if (query && tokens.at(-1)?.kind === 'semicolon') tokens.pop();
  checkTokens(tokens, query);
  const parsed = { names: new Map<string, string>(), strings: new Map<string, string>(), subqueries: new Map<string, { ast: AstNode; exists: boolean }>() };
  return { ast: parseTokens(tokens, parsed, sql, query ? '' : 'SELECT '), ...parsed };
}

function parseTokens(tokens: SqlToken[], parsed: Omit<ParsedSql, 'ast'>, sql: string, prefix: string): AstNode {
  const rendered = render(liftSubqueries(tokens, parsed, sql), parsed.names, parsed.strings);
  let ast: unknown;
  try {
    ast = parser.astify(prefix + rendered.text, { database: 'trino' });
  } catch (error) {
    const location = (error as { location?: { start?: { offset?: number } } }).location?.start?.offset;
    const offset = location === undefined ? undefined : sourceOffset(rendered.at, location - prefix.length);
    const near = offset === undefined ? '' : ` near character ${offset + 1} (${JSON.stringify(sql.slice(offset, offset + 24))})`;
    fail(`the query is not valid Presto SQL${near}; check it against Presto 0.217's SELECT syntax, which IoT Analytics runs`);
  }
  if (Array.isArray(ast)) fail('a dataset holds one SELECT statement');
  return reassociate(ast) as AstNode;
}

/** Clause words that end a FROM list at their depth. */
const FROM_END = new Set(['WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'OFFSET', 'UNION', 'INTERSECT', 'EXCEPT', 'WINDOW', 'ON', 'USING', 'SELECT']);

/**
 * The grammar reads a subquery after FROM, JOIN and IN but refuses one anywhere else ("invalid column
 * clause with select statement"): `x = (SELECT max(x) ...)`, `(SELECT ...) AS c`, EXISTS (SELECT ...).
 * Those are parsed on their own and stand in the outer query as a placeholder call.
 */
function liftSubqueries(tokens: SqlToken[], parsed: Omit<ParsedSql, 'ast'>, sql: string): SqlToken[] {
  const out: SqlToken[] = [];
  const inFrom: boolean[] = [false];
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i]!;
    const word = upper(token);
    const exists = word === 'EXISTS' && tokens[i + 1]?.kind === 'lparen' && upper(tokens[i + 2]) === 'SELECT';
    const open = exists ? i + 1 : i;
    if (exists || (token.kind === 'lparen' && upper(tokens[i + 1]) === 'SELECT')) {
      const before = upper(tokens[open - 1]);
      const keep = !exists && (before === 'FROM' || before === 'JOIN' || before === 'IN' || (tokens[open - 1]?.kind === 'comma' && inFrom.at(-1)));
      if (!keep) {
        const close = matching(tokens, open);
        // Inner subqueries take their numbers first.
        const ast = parseTokens(tokens.slice(open + 1, close), parsed, sql, '');
        const key = `__hx${parsed.subqueries.size}`;
        parsed.subqueries.set(key, { ast, exists });
        out.push({ kind: 'word', text: key, at: token.at }, { kind: 'lparen', text: '(', at: token.at }, { kind: 'rparen', text: ')', at: token.at });
        i = close;
        continue;
      }
    }
    if (token.kind === 'lparen') inFrom.push(false);
    else if (token.kind === 'rparen') inFrom.pop();
    else if (word === 'FROM') inFrom[inFrom.length - 1] = true;
    else if (word !== undefined && FROM_END.has(word)) inFrom[inFrom.length - 1] = false;
    out.push(token);
  }
  return out;
}

function matching(tokens: SqlToken[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j += 1) {
    if (tokens[j]!.kind === 'lparen') depth += 1;
    else if (tokens[j]!.kind === 'rparen' && --depth === 0) return j;
  }
  return fail('a "(" is not closed', tokens[open]!.at);
}

export const isStringPlaceholder = (value: unknown): value is string => typeof value === 'string' && STRING_PLACEHOLDER.test(value);

const LOGICAL = new Set(['AND', 'OR']);
const isChain = (n: unknown): n is AstNode =>
  typeof n === 'object' && n !== null && (n as AstNode).type === 'binary_expr' && LOGICAL.has(String((n as AstNode).operator).toUpperCase()) && !(n as AstNode).parentheses;

/** Rebuilds every AND/OR chain in the tree with Presto's precedence (NOT > AND > OR, left to right). */
export function reassociate(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(reassociate);
  if (typeof node !== 'object' || node === null) return node;
  const n = node as AstNode;
  if (isChain(n)) {
    const terms: unknown[] = [];
    const ops: string[] = [];
    let cursor: unknown = n;
    while (isChain(cursor)) {
      terms.push(reassociate(cursor.left));
      ops.push(String(cursor.operator).toUpperCase());
      cursor = cursor.right;
    }
    terms.push(reassociate(cursor));
    const ors: unknown[] = [];
    let current = terms[0];
    for (let i = 0; i < ops.length; i += 1) {
      if (ops[i] === 'AND') current = { type: 'binary_expr', operator: 'AND', left: current, right: terms[i + 1] };
      else {
        ors.push(current);
        current = terms[i + 1];
      }
    }
    ors.push(current);
    return ors.reduce((left, right) => ({ type: 'binary_expr', operator: 'OR', left, right }));
  }
  const out: AstNode = {};
  for (const [key, value] of Object.entries(n)) out[key] = reassociate(value);
  return out;
}
