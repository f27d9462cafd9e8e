import { InvalidRequestException } from './errors.ts';

/** List operations page by name: the token is the last name of the page, opaque to clients. */

export const DEFAULT_PAGE_SIZE = 100;

export function encodeToken(lastName: string): string {
  return Buffer.from(JSON.stringify({ after: lastName })).toString('base64url');
}

export function decodeToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through to the error below
  }
  throw new InvalidRequestException('nextToken is not valid; pass the nextToken of the previous page unchanged.');
}

/** Fetches one more than the page size to know whether another page follows. */
export async function page<T>(
  fetch: (after: string | undefined, limit: number) => Promise<T[]>,
  nameOf: (item: T) => string,
  input: { nextToken?: string; maxResults?: number },
): Promise<{ items: T[]; nextToken?: string }> {
  const size = input.maxResults ?? DEFAULT_PAGE_SIZE;
  const items = await fetch(decodeToken(input.nextToken), size + 1);
  if (items.length <= size) return { items };
  const pageItems = items.slice(0, size);
  return { items: pageItems, nextToken: encodeToken(nameOf(pageItems.at(-1)!)) };
}
