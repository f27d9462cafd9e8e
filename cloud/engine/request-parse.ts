import type { z } from 'zod';
import { InvalidRequestException } from './errors.ts';

/**
 * Parse, don't validate: every engine operation runs its input through a zod schema first, so the
 * rest of the engine works on typed values and bad input is refused with the path and the reason. The
 * schemas are the API model's (cloud/model/), the same ones the REST layer decodes the wire with.
 */
export function parseRequest<T extends z.ZodType>(schema: T, input: unknown, operation: string): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const reasons = result.error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : 'request';
    return `${path}: ${issue.message}`;
  });
  throw new InvalidRequestException(`${operation}: ${reasons.join('; ')}.`);
}
