import { InvalidRequestException } from '../engine/errors.ts';

/**
 * Tokens of dataset SQL (IoT Analytics' Presto SELECT subset). Comments are dropped here, so the
 * text SQLite finally sees is rebuilt from tokens and no comment can hide a second statement.
 * Characters that only SQLite gives meaning to (`[x]`, backticks, `?`/`:name` parameters) are refused.
 */

export type SqlTokenKind = 'word' | 'quoted' | 'string' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'dot' | 'semicolon';

export interface SqlToken {
  kind: SqlTokenKind;
  /** Words keep their spelling; quoted identifiers and strings hold their unescaped content. */
  text: string;
  at: number;
}

/** Longest dataset SQL accepted; IoT Analytics allowed queries of this size. */
export const MAX_SQL_LENGTH = 64 * 1024;

const OPERATORS = ['<>', '!=', '<=', '>=', '||', '=', '<', '>', '+', '-', '*', '/', '%'];
const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_]/;
const NUMBER = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/;

function fail(message: string, at: number): never {
  throw new InvalidRequestException(`Dataset SQL: ${message} at character ${at + 1}.`);
}

/**
 * Comments are dropped before SQLite sees the query, so nothing in one can run; still, a `;` inside one
 * is what an attempt to smuggle a second statement looks like, and the author should hear so.
 */
function refuseHiddenStatement(comment: string, at: number): void {
  if (comment.includes(';')) fail('a comment holds a ";", which looks like a hidden second statement: remove it (a dataset query is one SELECT)', at);
}

export function tokenizeSql(source: string): SqlToken[] {
  if (source.length > MAX_SQL_LENGTH) fail(`the query is longer than ${MAX_SQL_LENGTH} characters`, MAX_SQL_LENGTH);
  const tokens: SqlToken[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '-' && source[i + 1] === '-') {
      const end = source.indexOf('\n', i);
      const next = end === -1 ? source.length : end + 1;
      refuseHiddenStatement(source.slice(i, next), i);
      i = next;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      if (end === -1) fail('a /* comment is not closed', i);
      refuseHiddenStatement(source.slice(i, end + 2), i);
      i = end + 2;
      continue;
    }
    if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < source.length && WORD_PART.test(source[j]!)) j += 1;
      tokens.push({ kind: 'word', text: source.slice(i, j), at: i });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const match = NUMBER.exec(source.slice(i))!;
      tokens.push({ kind: 'number', text: match[0], at: i });
      i += match[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const { text, end } = readQuoted(source, i, c);
      tokens.push({ kind: c === "'" ? 'string' : 'quoted', text, at: i });
      i = end;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, at: i });
      i += op.length;
      continue;
    }
    const punctuation: Partial<Record<string, SqlTokenKind>> = { '(': 'lparen', ')': 'rparen', ',': 'comma', '.': 'dot', ';': 'semicolon' };
    const kind = punctuation[c];
    if (kind) {
      tokens.push({ kind, text: c, at: i });
      i += 1;
      continue;
    }
    if (c === '`' || c === '[') fail('quote names with double quotes ("name"), as Presto does', i);
    if (c === '?' || c === ':' || c === '@' || c === '$') fail('parameters are not allowed; write the values into the query', i);
    fail(`unexpected character ${JSON.stringify(c)}`, i);
  }
  return tokens;
}

function readQuoted(source: string, start: number, quote: string): { text: string; end: number } {
  let text = '';
  let j = start + 1;
  for (;;) {
    if (j >= source.length) fail(quote === "'" ? 'a string is not closed' : 'a quoted name is not closed', start);
    const ch = source[j]!;
    if (ch === quote) {
      if (source[j + 1] === quote) {
        text += quote;
        j += 2;
        continue;
      }
      return { text, end: j + 1 };
    }
    text += ch;
    j += 1;
  }
}

/** Renders a string literal for SQLite. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Renders an identifier for SQLite, always quoted so keywords and case survive. */
export function sqlIdentifier(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}
