import { IOT_CORE, parseEnvelope, parseTopic, recordProblem } from '../../hardware/core/contract.ts';
import { InvalidRequestException } from '../engine/errors.ts';
import { compileFilter } from '../engine/expression/evaluate.ts';
import { messageProblem } from '../engine/names.ts';
import { MAX_PAYLOAD_BYTES } from '../settings.ts';

/**
 * IoT Core-style topic rules: `SELECT * FROM 'dt/weather/+/reading' [WHERE condition]` with an
 * iotAnalytics action. This module parses rule SQL, matches MQTT topics, and turns one MQTT payload
 * into channel messages. An envelope (hardware/core/contract.ts) becomes one message per record, carrying
 * the envelope's deviceId as `device_id` and the id `<messageId>-<index>`, so a resent envelope maps
 * to the same ids and the channel drops it.
 *
 * On a `dt/<app>/<thing>/<type>` topic an envelope must come from that thing (its deviceId is the
 * topic's thing level), and each record must keep the contract for the type (reading: a weather
 * record, tap: a tap record, anything else: a numeric ts); a bad record is refused alone.
 */

/** IoT Core's topic limits (design.md §3). */
export const MAX_TOPIC_BYTES = IOT_CORE.maxTopicBytes;
export const MAX_TOPIC_LEVELS = IOT_CORE.maxTopicLevels;
/** batchMode sends at most this many messages per action invocation: one BatchPutMessage's worth, as IoT Core did. */
export { MAX_BATCH_MESSAGES } from '../model/channels.ts';

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

/**
 * An envelope whose deviceId is not the thing its topic names: one station writing as another. Its
 * own class, so ingest can count and log these apart from malformed payloads.
 */
export class DeviceMismatchError extends InvalidRequestException {
  constructor(
    readonly deviceId: string,
    readonly thing: string,
    what = "the envelope's deviceId",
  ) {
    super(`${what} ${JSON.stringify(deviceId)} is not the topic's thing ${JSON.stringify(thing)}; a device publishes only under its own name`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Turns one MQTT payload into channel messages, or throws InvalidRequestException saying why none
 * can be made (DeviceMismatchError when an envelope names another device than its topic). `newId`
 * names messages that carry no id of their own (plain JSON, not an envelope). `topic` is where the
 * payload arrived; without it the envelope's identity is not checked and records get the generic rules.
 * `maxBytes`: IoT Core's payload limit, or for an inflated compressed envelope the most it may inflate to.
 */
export function payloadMessages(payload: Buffer, batchMode: boolean, newId: () => string, topic?: string, maxBytes = MAX_PAYLOAD_BYTES): PayloadMessages {
  if (payload.length === 0) throw new InvalidRequestException('the payload is empty');
  if (payload.length > maxBytes) throw new InvalidRequestException(`the payload is ${payload.length} bytes; the limit is ${maxBytes}`);
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new InvalidRequestException('the payload is not JSON');
  }
  if (isObject(body) && 'records' in body && 'messageId' in body) return envelopeMessages(body, batchMode, topic);
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

function envelopeMessages(body: Record<string, unknown>, batchMode: boolean, topic: string | undefined): PayloadMessages {
  const parsed = parseEnvelope(body);
  if ('problem' in parsed) throw new InvalidRequestException(parsed.problem);
  const { messageId, deviceId, records } = parsed.envelope;
  const where = topic === undefined ? undefined : parseTopic(topic);
  if (where && where.thing !== deviceId) throw new DeviceMismatchError(deviceId, where.thing);
  const type = where?.type ?? '';
  const out: PayloadMessages = { messages: [], rejected: [], deviceId };
  const kept: Record<string, unknown>[] = [];
  for (const [index, record] of records.entries()) {
    if (!isObject(record)) {
      out.rejected.push(`record ${index} is not a JSON object`);
      continue;
    }
    // batchMode stores each record with the envelope's deviceId beside it, so that is what must keep the names rule.
    const value = batchMode ? { ...record, device_id: deviceId } : record;
    const problem = recordProblem(type, record) ?? messageProblem(value);
    if (problem) {
      out.rejected.push(`record ${index}: ${problem}`);
    } else if (batchMode) {
      out.messages.push({ messageId: `${messageId}-${index}`, value });
    } else {
      kept.push(record);
    }
  }
  if (!batchMode && (kept.length > 0 || out.rejected.length === 0)) {
    // One message per envelope: the good records travel together, the bad ones were refused above.
    const value = out.rejected.length === 0 ? body : { ...body, records: kept };
    const problem = messageProblem(value);
    if (problem) throw new InvalidRequestException(problem);
    out.messages.push({ messageId, value });
  }
  if (out.messages.length === 0 && out.rejected.length > 0) throw new InvalidRequestException(out.rejected[0]!);
  return out;
}
