import { describe, expect, it } from 'vitest';
import { InvalidRequestException } from '../../../../cloud/engine/errors.ts';
import { compileFilter, compileMath, compileValue } from '../../../../cloud/engine/expression/evaluate.ts';
import { MAX_EXPRESSION_DEPTH, parseExpression } from '../../../../cloud/engine/expression/parser.ts';

const math = (source: string, message: Record<string, unknown> = {}) => compileMath(source, 'test')(message);
const keep = (source: string, message: Record<string, unknown>) => compileFilter(source, 'test')(message);

describe('math expressions', () => {
  it('follows operator precedence and parentheses', () => {
    expect(math('2 + 3 * 4')).toBe(14);
    expect(math('(2 + 3) * 4')).toBe(20);
    expect(math('10 - 4 - 3')).toBe(3);
    expect(math('2 * -3')).toBe(-6);
    expect(math('7 % 4')).toBe(3);
    expect(math('1.5e2 / 3')).toBe(50);
  });

  it('converts Celsius to Fahrenheit from an attribute', () => {
    expect(math('(ambient_temperature * 9 / 5) + 32', { ambient_temperature: 20 })).toBe(68);
  });

  it('computes every documented function', () => {
    const cases: [string, number][] = [
      ['abs(-2)', 2], ['acos(1)', 0], ['asin(0)', 0], ['atan(0)', 0], ['atan2(0, 1)', 0], ['ceil(1.2)', 2], ['cos(0)', 1],
      ['cosh(0)', 1], ['exp(0)', 1], ['ln(1)', 0], ['log(100)', 2], ['mod(8, 3)', 2], ['power(2, 10)', 1024],
      ['round(2.5)', 3], ['round(-2.5)', -3], ['round(3.14159, 2)', 3.14], ['sign(-4)', -1], ['sin(0)', 0], ['sinh(0)', 0],
      ['sqrt(16)', 4], ['tan(0)', 0], ['tanh(0)', 0], ['trunc(2.789)', 2], ['trunc(2.789, 1)', 2.7], ['trunc(-2.7)', -2],
    ];
    for (const [source, expected] of cases) expect(math(source), source).toBeCloseTo(expected, 10);
  });

  it('gives NULL for missing inputs, division by zero and impossible maths', () => {
    expect(math('temperature * 2', {})).toBeNull();
    expect(math('1 / 0')).toBeNull();
    expect(math('sqrt(-1)')).toBeNull();
    expect(math('ln(0)')).toBeNull();
    expect(math('a + 1', { a: 'not a number' })).toBeNull();
    expect(math('a + 1', { a: '41' })).toBe(42);
  });

  it('reads nested attributes and matches names ignoring case', () => {
    expect(math('wind.speed * 2', { wind: { speed: 4 } })).toBe(8);
    expect(math('TEMPERATURE + 1', { temperature: 1 })).toBe(2);
  });

  it('rejects conditions and strings as math', () => {
    expect(() => compileMath('a > 1', 'm')).toThrow(InvalidRequestException);
    expect(() => compileMath("'text'", 'm')).toThrow(/must compute a number/);
  });
});

describe('filter expressions', () => {
  const reading = { temperature: 31, humidity: 20, station: 'north', wind: null };

  it('combines comparisons with AND, OR and NOT', () => {
    expect(keep('temperature > 30 AND humidity < 25', reading)).toBe(true);
    expect(keep('temperature > 30 AND humidity > 25', reading)).toBe(false);
    expect(keep('temperature > 40 OR station = \'north\'', reading)).toBe(true);
    expect(keep('NOT (temperature > 30)', reading)).toBe(false);
    expect(keep('temperature <> 31', reading)).toBe(false);
    expect(keep('temperature != 30', reading)).toBe(true);
    expect(keep('temperature >= 31 AND temperature <= 31', reading)).toBe(true);
  });

  it('binds AND tighter than OR', () => {
    expect(keep('temperature > 40 AND humidity < 25 OR station = \'north\'', reading)).toBe(true);
    expect(keep('temperature > 40 AND (humidity < 25 OR station = \'north\')', reading)).toBe(false);
  });

  it('treats a missing attribute as unknown, which never passes', () => {
    expect(keep('pressure > 1000', reading)).toBe(false);
    expect(keep('NOT (pressure > 1000)', reading)).toBe(false);
    expect(keep('pressure > 1000 OR temperature > 30', reading)).toBe(true);
  });

  it('supports IS NULL, IS NOT NULL and IN', () => {
    expect(keep('wind IS NULL', reading)).toBe(true);
    expect(keep('temperature IS NOT NULL', reading)).toBe(true);
    expect(keep("station IN ('south', 'north')", reading)).toBe(true);
    expect(keep("station NOT IN ('south', 'north')", reading)).toBe(false);
  });

  it('compares strings with SQL quoting', () => {
    expect(keep("name = 'it''s'", { name: "it's" })).toBe(true);
  });

  it('refuses a filter that is a value rather than a condition', () => {
    expect(() => compileFilter('temperature + 1', 'f')).toThrow(/must be a condition/);
    expect(() => compileFilter("'yes'", 'f')).toThrow(InvalidRequestException);
  });
});

describe('hostile and broken expressions', () => {
  const bad = [
    'temperature >', '(temperature > 1', 'temperature > 1)', 'unknownfn(1)', 'sqrt(1, 2)', 'atan2(1)', "'open",
    'a ; b', 'a > `1`', 'process.exit(1)', 'eval(1)', 'Function(1)', 'a => a', 'a = {}', '[1]', 'a.', '', '   ',
    'constructor.constructor("return process")()', 'x IS 5', 'x NOT 5', '1 2', 'a $ b', 'a AND', 'NOT',
  ];
  for (const source of bad) {
    it(`rejects ${JSON.stringify(source)} with a reason`, () => {
      expect(() => compileFilter(source, 'filter activity "f"')).toThrow(InvalidRequestException);
    });
  }

  it('never reaches JavaScript internals through attribute names', () => {
    const evaluate = compileValue('constructor', 'v');
    expect(evaluate({})).toBeNull();
    expect(compileValue('toString', 'v')({})).toBeNull();
    expect(compileValue('a.constructor', 'v')({ a: {} })).toBeNull();
    expect(compileValue('a.length', 'v')({ a: 'abc' })).toBeNull();
  });

  it('refuses deep nesting and overlong input before it costs anything', () => {
    const deep = `${'('.repeat(MAX_EXPRESSION_DEPTH + 1)}1${')'.repeat(MAX_EXPRESSION_DEPTH + 1)}`;
    expect(() => parseExpression(deep)).toThrow(/too deeply|longer than/);
    expect(() => parseExpression(`${'-'.repeat(200)}1`)).toThrow(/too deeply/);
    expect(() => parseExpression(`a + ${'1 + '.repeat(80)}1`)).toThrow(/longer than 256/);
  });

  it('says where the problem is', () => {
    expect(() => compileFilter('temperature > > 3', 'filter activity "hot"')).toThrow(/filter activity "hot": unexpected ">" at position 15/);
  });
});
