import { InvalidRequestException } from '../errors.ts';
import { parseExpression, type BinaryOp, type Expr } from './parser.ts';
import { ExpressionSyntaxError } from './tokenizer.ts';

/**
 * Turns a parsed expression into a closure over a message. SQL semantics: a missing attribute or a
 * type mismatch gives NULL, NULL spreads through arithmetic and comparisons, AND/OR are three-valued,
 * and a filter keeps a message only when its condition is exactly TRUE. Attribute lookups read own
 * properties of JSON objects only, so `constructor` or `__proto__` can never reach JavaScript internals.
 */

export type Value = number | string | boolean | null | Record<string, unknown> | unknown[];
export type Evaluator = (message: Record<string, unknown>) => Value;

const MATH: Readonly<Record<string, (...args: number[]) => number>> = {
  abs: Math.abs, acos: Math.acos, asin: Math.asin, atan: Math.atan, atan2: Math.atan2, ceil: Math.ceil,
  cos: Math.cos, cosh: Math.cosh, exp: Math.exp, ln: Math.log, log: Math.log10, sin: Math.sin,
  sinh: Math.sinh, sqrt: Math.sqrt, tan: Math.tan, tanh: Math.tanh, sign: Math.sign,
  mod: (a, b) => a % b,
  power: Math.pow,
  // IoT SQL rounds halves away from zero; Math.round would take -2.5 to -2.
  round: (x, digits = 0) => scaled(x, digits, (v) => Math.sign(v) * Math.round(Math.abs(v))),
  trunc: (x, digits = 0) => scaled(x, digits, Math.trunc),
};

function scaled(x: number, digits: number, op: (v: number) => number): number {
  const factor = 10 ** Math.trunc(digits);
  return op(x * factor) / factor;
}

export function lookup(message: Record<string, unknown>, path: readonly string[]): Value {
  let node: unknown = message;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return null;
    const object = node as Record<string, unknown>;
    if (Object.hasOwn(object, key)) {
      node = object[key];
      continue;
    }
    // Attribute names are case-insensitive in IoT Analytics.
    const folded = key.toLowerCase();
    const match = Object.keys(object).find((k) => k.toLowerCase() === folded);
    if (match === undefined) return null;
    node = object[match];
  }
  return node === undefined ? null : (node as Value);
}

export function toNumber(value: Value): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

function compare(op: BinaryOp, a: Value, b: Value): boolean | null {
  if (a === null || b === null) return null;
  let x: number | string | boolean;
  let y: number | string | boolean;
  if (typeof a === 'string' && typeof b === 'string') {
    x = a;
    y = b;
  } else if (typeof a === 'boolean' && typeof b === 'boolean') {
    if (op === '=') return a === b;
    if (op === '<>') return a !== b;
    return null;
  } else {
    const na = toNumber(a);
    const nb = toNumber(b);
    if (na === null || nb === null) return null;
    x = na;
    y = nb;
  }
  switch (op) {
    case '=': return x === y;
    case '<>': return x !== y;
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    default: return x >= y;
  }
}

function arithmetic(op: BinaryOp, a: Value, b: Value): number | null {
  const x = toNumber(a);
  const y = toNumber(b);
  if (x === null || y === null) return null;
  switch (op) {
    case '+': return finite(x + y);
    case '-': return finite(x - y);
    case '*': return finite(x * y);
    case '/': return y === 0 ? null : finite(x / y);
    default: return y === 0 ? null : finite(x % y);
  }
}

function truth(value: Value): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

export function compile(expr: Expr): Evaluator {
  switch (expr.kind) {
    case 'number':
    case 'string':
    case 'boolean': {
      const value = expr.value;
      return () => value;
    }
    case 'null':
      return () => null;
    case 'attribute': {
      const path = expr.path;
      if (path.length === 1) {
        const key = path[0]!;
        return (m) => (Object.hasOwn(m, key) ? ((m[key] ?? null) as Value) : lookup(m, path));
      }
      return (m) => lookup(m, path);
    }
    case 'negate': {
      const operand = compile(expr.operand);
      return (m) => {
        const n = toNumber(operand(m));
        return n === null ? null : -n;
      };
    }
    case 'not': {
      const operand = compile(expr.operand);
      return (m) => {
        const t = truth(operand(m));
        return t === null ? null : !t;
      };
    }
    case 'isNull': {
      const operand = compile(expr.operand);
      const negated = expr.negated;
      return (m) => (operand(m) === null) !== negated;
    }
    case 'in': {
      const operand = compile(expr.operand);
      const list = expr.list.map(compile);
      const negated = expr.negated;
      return (m) => {
        const value = operand(m);
        if (value === null) return null;
        let sawNull = false;
        for (const item of list) {
          const r = compare('=', value, item(m));
          if (r === true) return !negated;
          if (r === null) sawNull = true;
        }
        return sawNull ? null : negated;
      };
    }
    case 'call': {
      const fn = MATH[expr.name]!;
      const args = expr.args.map(compile);
      return (m) => {
        const values: number[] = [];
        for (const arg of args) {
          const n = toNumber(arg(m));
          if (n === null) return null;
          values.push(n);
        }
        return finite(fn(...values));
      };
    }
    case 'binary':
      return compileBinary(expr.op, compile(expr.left), compile(expr.right));
  }
}

function compileBinary(op: BinaryOp, left: Evaluator, right: Evaluator): Evaluator {
  if (op === 'AND') {
    return (m) => {
      const a = truth(left(m));
      if (a === false) return false;
      const b = truth(right(m));
      if (b === false) return false;
      return a === null || b === null ? null : true;
    };
  }
  if (op === 'OR') {
    return (m) => {
      const a = truth(left(m));
      if (a === true) return true;
      const b = truth(right(m));
      if (b === true) return true;
      return a === null || b === null ? null : false;
    };
  }
  if (op === '+' || op === '-' || op === '*' || op === '/' || op === '%') {
    return (m) => arithmetic(op, left(m), right(m));
  }
  return (m) => compare(op, left(m), right(m));
}

const BOOLEAN_KINDS = new Set<Expr['kind']>(['not', 'isNull', 'in', 'boolean', 'attribute']);
const CONDITION_OPS = new Set<BinaryOp>(['=', '<>', '<', '<=', '>', '>=', 'AND', 'OR']);

/** Compiles a filter condition, or throws InvalidRequestException saying what is wrong and where. */
export function compileFilter(source: string, where: string): (message: Record<string, unknown>) => boolean {
  const expr = parseOrReject(source, where);
  const isCondition = BOOLEAN_KINDS.has(expr.kind) || (expr.kind === 'binary' && CONDITION_OPS.has(expr.op));
  if (!isCondition) {
    throw new InvalidRequestException(`${where}: the filter must be a condition such as "temperature > 30", not a value.`);
  }
  const evaluate = compile(expr);
  return (message) => evaluate(message) === true;
}

/** Compiles a math expression whose result is a number, or NULL when an input is missing. */
export function compileMath(source: string, where: string): (message: Record<string, unknown>) => number | null {
  const expr = parseOrReject(source, where);
  if (expr.kind === 'string' || expr.kind === 'boolean' || expr.kind === 'not' || expr.kind === 'isNull' || expr.kind === 'in' ||
    (expr.kind === 'binary' && CONDITION_OPS.has(expr.op))) {
    throw new InvalidRequestException(`${where}: the math expression must compute a number, such as "(temperature * 9 / 5) + 32".`);
  }
  const evaluate = compile(expr);
  return (message) => {
    const value = evaluate(message);
    return typeof value === 'number' ? value : toNumber(value);
  };
}

/** Compiles any expression (e.g. the thing name of the enrich activities). */
export function compileValue(source: string, where: string): Evaluator {
  return compile(parseOrReject(source, where));
}

function parseOrReject(source: string, where: string): Expr {
  try {
    return parseExpression(source);
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) throw new InvalidRequestException(`${where}: ${error.message}.`);
    throw error;
  }
}
