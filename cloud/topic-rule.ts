import { THING_NAME } from '../device/contract.ts';
import { InvalidRequestException } from './errors.ts';
import { compileFilter } from './expression/evaluate.ts';
import { messageProblem } from './names.ts';
import { MAX_PAYLOAD_BYTES } from './settings.ts';

/**
 * IoT Core-style topic rules: `SELECT * FROM 'dt/weather/+/reading' [WHERE condition]` with an
 * iotAnalytics action. This module parses rule SQL, matches MQTT topics, and turns one MQTT payload
 * into channel messages. An envelope (device/contract.ts) becomes one message per record, carrying
 * the envelope's deviceId as `device_id` and the id `<messageId>-<index>`, so a resent envelope maps
 * to the same ids and the channel drops it.
 */

/** IoT Core's topic limits (design.md §3). */
export const MAX_TOPIC_BYTES = 256;
export const MAX_TOPIC_LEVELS = 8;
/** batchMode sends at most this many messages per action invocation, as IoT Core did. */
export const MAX_BATCH_MESSAGES = 100;
const MAX_MESSAGE_ID = 128;

export interface ParsedRuleSql {
  topicFilter: string;
  where?: (message: Record<string, unknown>) => boolean;
}

export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'the topic filter is empty';
  if (Buffer.byteLength(filter) > MAX_TOPIC_BYTES) return `the topic filter is longer than ${MAX_TOPIC_BYTES} bytes`;
  const levels = filter.split('/');
  if (levels.length > MAX_TOPIC_LEVELS) return `the topic filter has more than ${MAX_TOPIC_LEVELS} levels`;
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '"#" must be a whole level, and the last';
    if (level.includes('+') && level !== '+') return '"+" must be a whole level';
    if (level.includes(String.fromCharCode(0))) return 'the topic filter contains a NUL character';
  }
  return undefined;
}

export function parseRuleSql(sql: string): ParsedRuleSql {
  const match = /^\s*SELECT\s+\*\s+FROM\s+'([^']*)'(?:\s+WHERE\s+([\s\S]+?))?\s*;?\s*$/i.exec(sql ?? '');
  if (!match) {
    throw new InvalidRequestException(`Rule SQL "${String(sql).slice(0, 100)}": write SELECT * FROM 'dt/weather/+/reading', optionally followed by WHERE and a condition.`);
  }
  const topicFilter = match[1]!;
  const problem = topicFilterProblem(topicFilter);
  if (problem) throw new InvalidRequestException(`Rule SQL: ${problem}.`);
  return { topicFilter, ...(match[2] ? { where: compileFilter(match[2], 'Rule SQL WHERE') } : {}) };
}

/** MQTT topic matching: `+` is one level, `#` the rest (including none). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i += 1) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export interface RuleMessage {
  messageId: string;
  value: Record<string, unknown>;
}

export interface PayloadMessages {
  messages: RuleMessage[];
  /** Records that could not become messages, with why. */
  rejected: string[];
  deviceId?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Turns one MQTT payload into channel messages, or throws InvalidRequestException saying why none
 * can be made. `newId` names messages that carry no id of their own (plain JSON, not an envelope).
 */
export function payloadMessages(payload: Buffer, batchMode: boolean, newId: () => string): PayloadMessages {
  if (payload.length === 0) throw new InvalidRequestException('the payload is empty');
  if (payload.length > MAX_PAYLOAD_BYTES) throw new InvalidRequestException(`the payload is ${payload.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}`);
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new InvalidRequestException('the payload is not JSON');
  }
  if (isObject(body) && 'records' in body && 'messageId' in body) return envelopeMessages(body, batchMode);
  const items = Array.isArray(body) && batchMode ? body : [body];
  const out: PayloadMessages = { messages: [], rejected: [] };
  for (const item of items) {
    const problem = !isObject(item) ? 'a message must be a JSON object' : messageProblem(item);
    if (problem) out.rejected.push(problem);
    else out.messages.push({ messageId: newId(), value: item as Record<string, unknown> });
  }
  if (out.messages.length === 0) throw new InvalidRequestException(out.rejected[0] ?? 'the payload holds no messages');
  return out;
}

function envelopeMessages(envelope: Record<string, unknown>, batchMode: boolean): PayloadMessages {
  const { messageId, deviceId, seq, sentAt, records } = envelope;
  if (typeof messageId !== 'string' || messageId.length === 0 || messageId.length > MAX_MESSAGE_ID - 6) {
    throw new InvalidRequestException('the envelope messageId must be a string of 1-122 characters');
  }
  if (typeof deviceId !== 'string' || !THING_NAME.test(deviceId)) throw new InvalidRequestException('the envelope deviceId must be a thing name (letters, digits, "-", "_")');
  if (typeof seq !== 'number' || !Number.isFinite(seq)) throw new InvalidRequestException('the envelope seq must be a number');
  if (typeof sentAt !== 'number' || !Number.isFinite(sentAt)) throw new InvalidRequestException('the envelope sentAt must be a number (epoch ms)');
  if (!Array.isArray(records)) throw new InvalidRequestException('the envelope records must be an array');
  if (!batchMode) {
    const problem = messageProblem(envelope);
    if (problem) throw new InvalidRequestException(problem);
    return { messages: [{ messageId, value: envelope }], rejected: [], deviceId };
  }
  const out: PayloadMessages = { messages: [], rejected: [], deviceId };
  for (const [index, record] of records.entries()) {
    if (!isObject(record)) {
      out.rejected.push(`record ${index} is not a JSON object`);
      continue;
    }
    const value = { ...record, device_id: deviceId };
    const problem = messageProblem(value);
    if (problem) out.rejected.push(`record ${index}: ${problem}`);
    else out.messages.push({ messageId: `${messageId}-${index}`, value });
  }
  if (out.messages.length === 0 && out.rejected.length > 0) throw new InvalidRequestException(out.rejected[0]!);
  return out;
}
