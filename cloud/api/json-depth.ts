/**
 * How deeply a JSON text nests, counted on its bytes before it is parsed. A body nested thousands of
 * levels deep parses, but later recursive walks (zod, JSON.stringify into the catalog) overflow the
 * stack, so the API refuses it at the door. No IoT Analytics request shape nests deeper than about 8.
 */

/** Deepest nesting of objects and arrays a request body may have. */
export const MAX_BODY_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** True when the text opens more than `limit` objects or arrays inside each other; brackets inside strings do not count. */
export function nestsDeeperThan(text: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
  }
  return false;
}
