import { describe, expect, it } from 'vitest';
import { createLogger, LOG_LEVELS } from '../../../hardware/core/logger.ts';

describe('createLogger', () => {
  it('refuses an unknown level with the levels there are and how to set one (HEDGEROW_LOG_LEVEL reaches it too)', () => {
    expect(() => createLogger({ level: 'loud', format: 'json' })).toThrow(/"loud" is not one of trace, debug, info, warn, error, fatal, silent; use e\.g\. --log-level info/);
  });

  it('takes every level it lists', () => {
    for (const level of LOG_LEVELS) expect(createLogger({ level, format: 'json' }).level).toBe(level);
  });
});
