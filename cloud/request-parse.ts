import { z } from 'zod';
import { InvalidRequestException } from './errors.ts';
import { resourceNameProblem } from './names.ts';

/**
 * Parse, don't validate: every engine operation runs its input through a zod schema first, so the
 * rest of the engine works on typed values and bad input is refused with the path and the reason.
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

/** Shapes shared by several operations. */
export const resourceNameSchema = z.string().superRefine((value, ctx) => {
  const problem = resourceNameProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const retentionPeriodSchema = z
  .object({
    unlimited: z.boolean().optional(),
    numberOfDays: z.number().int().min(1, 'must be at least 1 day').optional(),
  })
  .refine((r) => (r.unlimited === true) !== (r.numberOfDays !== undefined), {
    message: 'give either unlimited: true or numberOfDays, not both and not neither',
  });

export const tagSchema = z.object({ key: z.string().min(1).max(256), value: z.string().max(256) });
export const tagsSchema = z.array(tagSchema).min(1).max(50);

export const listRequestSchema = z
  .object({
    nextToken: z.string().max(4096).optional(),
    maxResults: z.number().int().min(1).max(250).optional(),
  })
  .loose();

export const dateSchema = z.date({ error: 'must be a date' }).refine((d) => Number.isFinite(d.getTime()), 'must be a valid date');
