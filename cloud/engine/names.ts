import { ATTRIBUTE_NAME } from '../../hardware/core/contract.ts';
import { InvalidRequestException } from './errors.ts';

/** IoT Analytics resource names: 1..128 of letters, digits and underscores, not starting with `__`. */
const RESOURCE_NAME = /^[a-zA-Z0-9_]{1,128}$/;
// Attribute names are the contract's ATTRIBUTE_NAME, case-insensitive unique within a message.
/** AWS's limit on an attribute name's length. */
export const MAX_ATTRIBUTE_NAME_LENGTH = 255;
/** Messages nest no deeper than this; deeper payloads are rejected before they reach SQLite or a parser. */
export const MAX_PAYLOAD_DEPTH = 32;

export type ResourceKind = 'channel' | 'pipeline' | 'datastore' | 'dataset' | 'activity' | 'rule' | 'thing';

export function resourceNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (!RESOURCE_NAME.test(name)) return 'must be 1-128 letters, digits or underscores';
  if (name.startsWith('__')) return 'must not start with "__"';
  return undefined;
}

export function checkResourceName(kind: ResourceKind, name: unknown): string {
  const problem = resourceNameProblem(name);
  if (problem) throw new InvalidRequestException(`Invalid ${kind} name ${JSON.stringify(name)}: it ${problem}.`);
  return name as string;
}

export function isAttributeName(name: string): boolean {
  return name.length <= MAX_ATTRIBUTE_NAME_LENGTH && ATTRIBUTE_NAME.test(name);
}

export function checkAttributeName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !isAttributeName(name)) {
    throw new InvalidRequestException(
      `${where}: ${JSON.stringify(name)} is not a valid attribute name; use letters, digits and underscores, starting with a letter or one underscore (e.g. ambient_temperature).`,
    );
  }
  return name;
}

/**
 * Why a message object cannot be stored, or undefined if it can: every key at every level must be a
 * valid attribute name, unique ignoring case, and nesting stays within MAX_PAYLOAD_DEPTH.
 */
export function messageProblem(value: Record<string, unknown>): string | undefined {
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_PAYLOAD_DEPTH) return `nesting deeper than ${MAX_PAYLOAD_DEPTH} levels`;
    if (Array.isArray(node)) {
      for (const item of node) stack.push({ node: item, depth: depth + 1 });
      continue;
    }
    const seen = new Set<string>();
    for (const key of Object.keys(node)) {
      if (!isAttributeName(key)) return `attribute name ${JSON.stringify(key.slice(0, 80))} is not valid (letters, digits, underscores; start with a letter or one underscore)`;
      const folded = key.toLowerCase();
      if (seen.has(folded)) return `attribute name ${JSON.stringify(key)} appears twice (names are case-insensitive)`;
      seen.add(folded);
      stack.push({ node: (node as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
  return undefined;
}

/** Parses a message payload into a JSON object, or says why it cannot be one. */
export function parsePayload(payload: Uint8Array, maxBytes: number): { value: Record<string, unknown> } | { problem: string } {
  if (payload.byteLength === 0) return { problem: 'the payload is empty' };
  if (payload.byteLength > maxBytes) return { problem: `the payload is ${payload.byteLength} bytes; the limit is ${maxBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return { problem: 'the payload is not JSON; send a JSON object such as {"temperature": 21.5}' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problem: 'the payload must be a JSON object such as {"temperature": 21.5}' };
  }
  const problem = messageProblem(value as Record<string, unknown>);
  return problem ? { problem } : { value: value as Record<string, unknown> };
}
