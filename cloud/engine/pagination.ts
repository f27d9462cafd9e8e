import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidRequestException } from './errors.ts';
import { PROCESS_TOKEN_KEY } from './token-key.ts';

/**
 * List operations page by name. The token is the last name of the page plus an HMAC of it under the
 * engine's token key (cloud/engine/token-key.ts), so a client can neither forge one nor edit one to jump
 * elsewhere; to the client it is opaque.
 */

export const DEFAULT_PAGE_SIZE = 100;
const INVALID_TOKEN = 'nextToken is not valid; pass the nextToken of the previous page unchanged.';
/** 128 bits of HMAC-SHA256: forging one is out of reach, and the token stays short. */
const MAC_BYTES = 16;
const MAC_CONTEXT = 'hedgerow-next-token-v1\n';

/**
 * The keys tokens are checked against. The newest signs; any verifies, so two engines in one process (tests)
 * each read the other's tokens. With no engine started the process's own random key serves.
 */
const tokenKeys: Buffer[] = [];

/** Signs and checks tokens with `key` until the returned function is called (the engine's start and stop). */
export function useTokenKey(key: Buffer): () => void {
  const entry = Buffer.from(key);
  tokenKeys.push(entry);
  return () => {
    const at = tokenKeys.indexOf(entry);
    if (at >= 0) tokenKeys.splice(at, 1);
  };
}

function macOf(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(MAC_CONTEXT).update(body).digest().subarray(0, MAC_BYTES);
}

export function encodeToken(lastName: string): string {
  const body = Buffer.from(JSON.stringify({ after: lastName })).toString('base64url');
  return `${body}.${macOf(tokenKeys.at(-1) ?? PROCESS_TOKEN_KEY, body).toString('base64url')}`;
}

export function decodeToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const dot = token.indexOf('.');
  const body = token.slice(0, dot);
  const mac = Buffer.from(token.slice(dot + 1), 'base64url');
  const keys = tokenKeys.length > 0 ? tokenKeys : [PROCESS_TOKEN_KEY];
  const genuine = dot > 0 && mac.length === MAC_BYTES && keys.some((key) => timingSafeEqual(macOf(key, body), mac));
  if (genuine) {
    try {
      const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { after?: unknown };
      if (typeof parsed.after === 'string') return parsed.after;
    } catch {
      // fall through to the error below
    }
  }
  throw new InvalidRequestException(INVALID_TOKEN);
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
