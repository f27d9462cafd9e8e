/**
 * Tokens of the filter/math expression language (IoT Analytics' SQL WHERE-like expressions). The
 * tokenizer knows nothing about meaning; it only refuses characters the language has no use for, so
 * odd input fails with its position instead of somewhere deep in the parser.
 */

export type TokenKind = 'number' | 'string' | 'ident' | 'op' | 'lparen' | 'rparen' | 'comma' | 'dot' | 'end';

export interface Token {
  kind: TokenKind;
  /** Identifiers keep their spelling; keywords are recognised case-insensitively by the parser. */
  text: string;
  /** Offset in the source, for error messages. */
  at: number;
}

export class ExpressionSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(`${message} at position ${at + 1}`);
  }
}

const TWO_CHAR_OPS = new Set(['<=', '>=', '<>', '!=', '==']);
const ONE_CHAR_OPS = new Set(['+', '-', '*', '/', '%', '<', '>', '=']);
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const NUMBER = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/;

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i += 1;
      continue;
    }
    if (DIGIT.test(c) || (c === '.' && DIGIT.test(source[i + 1] ?? ''))) {
      const match = NUMBER.exec(source.slice(i))!;
      tokens.push({ kind: 'number', text: match[0], at: i });
      i += match[0].length;
      if (IDENT_START.test(source[i] ?? '')) throw new ExpressionSyntaxError('a number runs into a name', i);
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < source.length && IDENT_PART.test(source[j]!)) j += 1;
      tokens.push({ kind: 'ident', text: source.slice(i, j), at: i });
      i = j;
      continue;
    }
    if (c === "'") {
      // SQL strings: a doubled quote stands for one quote; there are no backslash escapes.
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= source.length) throw new ExpressionSyntaxError('a string is not closed with a quote', i);
        if (source[j] === "'") {
          if (source[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += source[j];
        j += 1;
      }
      tokens.push({ kind: 'string', text, at: i });
      i = j + 1;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      tokens.push({ kind: 'op', text: two, at: i });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.has(c)) {
      tokens.push({ kind: 'op', text: c, at: i });
      i += 1;
      continue;
    }
    const single: Partial<Record<string, TokenKind>> = { '(': 'lparen', ')': 'rparen', ',': 'comma', '.': 'dot' };
    const kind = single[c];
    if (kind) {
      tokens.push({ kind, text: c, at: i });
      i += 1;
      continue;
    }
    throw new ExpressionSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
  }
  tokens.push({ kind: 'end', text: '', at: source.length });
  return tokens;
}
