import { ExpressionSyntaxError, tokenize, type Token } from './tokenizer.ts';

/**
 * A Pratt parser for filter and math expressions: `temperature > 30 AND NOT (humidity IS NULL)`,
 * `(ambient_temperature * 9 / 5) + 32`, `round(power(wind_speed, 2), 1)`. The result is a plain AST;
 * nothing here ever evaluates source text as code.
 */

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';

export type Expr =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'attribute'; path: string[] }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'negate'; operand: Expr }
  | { kind: 'not'; operand: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr }
  | { kind: 'isNull'; operand: Expr; negated: boolean }
  | { kind: 'in'; operand: Expr; list: Expr[]; negated: boolean };

/** IoT Analytics limits filter and math expressions to 256 characters. */
export const MAX_EXPRESSION_LENGTH = 256;
/** Deeper nesting than this is refused, so hostile input cannot exhaust the stack. */
export const MAX_EXPRESSION_DEPTH = 64;

/** Arity of each function the math and filter activities allow: [min, max]. */
export const FUNCTIONS: Readonly<Record<string, readonly [number, number]>> = {
  abs: [1, 1], acos: [1, 1], asin: [1, 1], atan: [1, 1], atan2: [2, 2], ceil: [1, 1], cos: [1, 1],
  cosh: [1, 1], exp: [1, 1], ln: [1, 1], log: [1, 1], mod: [2, 2], power: [2, 2], round: [1, 2],
  sign: [1, 1], sin: [1, 1], sinh: [1, 1], sqrt: [1, 1], tan: [1, 1], tanh: [1, 1], trunc: [1, 2],
};

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IS', 'NULL', 'TRUE', 'FALSE', 'IN']);

// Binding powers, lowest first: OR < AND < NOT < comparison < additive < multiplicative < unary minus.
const BP_OR = 10;
const BP_AND = 20;
const BP_NOT = 30;
const BP_COMPARE = 40;
const BP_ADD = 50;
const BP_MUL = 60;
const BP_UNARY = 70;

const INFIX: Readonly<Record<string, { op: BinaryOp; bp: number }>> = {
  OR: { op: 'OR', bp: BP_OR },
  AND: { op: 'AND', bp: BP_AND },
  '=': { op: '=', bp: BP_COMPARE },
  '==': { op: '=', bp: BP_COMPARE },
  '<>': { op: '<>', bp: BP_COMPARE },
  '!=': { op: '<>', bp: BP_COMPARE },
  '<': { op: '<', bp: BP_COMPARE },
  '<=': { op: '<=', bp: BP_COMPARE },
  '>': { op: '>', bp: BP_COMPARE },
  '>=': { op: '>=', bp: BP_COMPARE },
  '+': { op: '+', bp: BP_ADD },
  '-': { op: '-', bp: BP_ADD },
  '*': { op: '*', bp: BP_MUL },
  '/': { op: '/', bp: BP_MUL },
  '%': { op: '%', bp: BP_MUL },
};

export function parseExpression(source: string): Expr {
  if (typeof source !== 'string' || source.trim() === '') throw new ExpressionSyntaxError('the expression is empty', 0);
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionSyntaxError(`the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`, MAX_EXPRESSION_LENGTH);
  }
  return new Parser(tokenize(source)).parseAll();
}

class Parser {
  private position = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): Expr {
    const expr = this.parse(0);
    const token = this.peek();
    if (token.kind !== 'end') throw new ExpressionSyntaxError(`unexpected ${describe(token)}`, token.at);
    return expr;
  }

  private parse(minBp: number): Expr {
    this.depth += 1;
    if (this.depth > MAX_EXPRESSION_DEPTH) throw new ExpressionSyntaxError('the expression nests too deeply', this.peek().at);
    let left = this.prefix();
    for (;;) {
      const token = this.peek();
      const word = infixWord(token);
      if (word === 'IS' || word === 'IN' || word === 'NOT') {
        if (BP_COMPARE <= minBp) break;
        left = this.postfixPredicate(left);
        continue;
      }
      const infix = word === undefined ? undefined : INFIX[word];
      if (!infix || infix.bp <= minBp) break;
      this.next();
      const right = this.parse(infix.bp);
      left = { kind: 'binary', op: infix.op, left, right };
    }
    this.depth -= 1;
    return left;
  }

  private prefix(): Expr {
    const token = this.next();
    switch (token.kind) {
      case 'number': {
        const value = Number(token.text);
        if (!Number.isFinite(value)) throw new ExpressionSyntaxError('the number is too large', token.at);
        return { kind: 'number', value };
      }
      case 'string':
        return { kind: 'string', value: token.text };
      case 'lparen': {
        const inner = this.parse(0);
        this.expect('rparen', ')');
        return inner;
      }
      case 'op':
        if (token.text === '-') return { kind: 'negate', operand: this.parse(BP_UNARY) };
        if (token.text === '+') return this.parse(BP_UNARY);
        break;
      case 'ident':
        return this.identifier(token);
      default:
        break;
    }
    throw new ExpressionSyntaxError(`unexpected ${describe(token)}`, token.at);
  }

  private identifier(token: Token): Expr {
    const upper = token.text.toUpperCase();
    if (upper === 'NOT') return { kind: 'not', operand: this.parse(BP_NOT) };
    if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'boolean', value: upper === 'TRUE' };
    if (upper === 'NULL') return { kind: 'null' };
    if (KEYWORDS.has(upper)) throw new ExpressionSyntaxError(`unexpected keyword ${upper}`, token.at);
    if (this.peek().kind === 'lparen') return this.call(token);
    const path = [token.text];
    while (this.peek().kind === 'dot') {
      this.next();
      const part = this.next();
      if (part.kind !== 'ident') throw new ExpressionSyntaxError('an attribute name must follow "."', part.at);
      path.push(part.text);
    }
    return { kind: 'attribute', path };
  }

  private call(token: Token): Expr {
    const name = token.text.toLowerCase();
    const arity = FUNCTIONS[name];
    if (!arity) {
      throw new ExpressionSyntaxError(`unknown function ${token.text}(); use one of ${Object.keys(FUNCTIONS).join(', ')}`, token.at);
    }
    this.expect('lparen', '(');
    const args: Expr[] = [];
    if (this.peek().kind !== 'rparen') {
      args.push(this.parse(0));
      while (this.peek().kind === 'comma') {
        this.next();
        args.push(this.parse(0));
      }
    }
    this.expect('rparen', ')');
    const [min, max] = arity;
    if (args.length < min || args.length > max) {
      const wanted = min === max ? `${min}` : `${min} or ${max}`;
      throw new ExpressionSyntaxError(`${name}() takes ${wanted} argument${max === 1 ? '' : 's'}, not ${args.length}`, token.at);
    }
    return { kind: 'call', name, args };
  }

  /** `x IS [NOT] NULL`, `x [NOT] IN (a, b)`. */
  private postfixPredicate(operand: Expr): Expr {
    const first = this.next();
    const word = first.text.toUpperCase();
    if (word === 'IS') {
      let negated = false;
      if (infixWord(this.peek()) === 'NOT') {
        this.next();
        negated = true;
      }
      const nullToken = this.next();
      if (nullToken.kind !== 'ident' || nullToken.text.toUpperCase() !== 'NULL') {
        throw new ExpressionSyntaxError('IS must be followed by NULL or NOT NULL', nullToken.at);
      }
      return { kind: 'isNull', operand, negated };
    }
    const negated = word === 'NOT';
    if (negated) {
      const inToken = this.next();
      if (infixWord(inToken) !== 'IN') throw new ExpressionSyntaxError('NOT here must be followed by IN', inToken.at);
    }
    this.expect('lparen', '(');
    const list = [this.parse(0)];
    while (this.peek().kind === 'comma') {
      this.next();
      list.push(this.parse(0));
    }
    this.expect('rparen', ')');
    return { kind: 'in', operand, list, negated };
  }

  private expect(kind: Token['kind'], text: string): void {
    const token = this.next();
    if (token.kind !== kind) throw new ExpressionSyntaxError(`expected "${text}" but found ${describe(token)}`, token.at);
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private next(): Token {
    const token = this.tokens[this.position]!;
    if (token.kind !== 'end') this.position += 1;
    return token;
  }
}

function infixWord(token: Token): string | undefined {
  if (token.kind === 'op') return token.text;
  if (token.kind === 'ident') return token.text.toUpperCase();
  return undefined;
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'the end of the expression' : `"${token.kind === 'string' ? `'${token.text}'` : token.text}"`;
}
