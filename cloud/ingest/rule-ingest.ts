import type { IngestStats } from '../engine/engine.ts';
import type { EngineContext } from '../engine/engine-context.ts';
import type { Channels } from '../engine/channels.ts';
import type { RefusalReason } from '../engine/engine-metrics.ts';
import { isEngineError } from '../engine/errors.ts';
import { isRetryableStoreError } from '../storage/retryable-store-error.ts';
import type { ThingRegistry } from '../engine/thing-registry.ts';
import { COMPRESSED_ENVELOPE } from '../../hardware/core/contract.ts';
import { compressedFilters, inflateEnvelope } from './compressed-envelope.ts';
import { DeviceMismatchError, MAX_BATCH_MESSAGES, payloadMessages, topicMatches } from './topic-rule.ts';
import type { TopicRules } from './topic-rules.ts';

/**
 * What happens to one MQTT message: status topics update the device's shadow; every enabled rule
 * whose filter matches feeds its channels. A bad payload is counted and logged with its reason and
 * never throws, so one broken device cannot stop the subscriber.
 */

/** At most one warning per this many ms about rejected payloads; the rest are counted. */
const WARN_INTERVAL_MS = 10_000;
const STATUS_TOPIC = /^dt\/([^/]+)\/([^/]+)\/status$/;
/**
 * A station writing as another is logged once per publishing thing per this many ms; in between it is
 * only counted. Ten minutes: a misconfigured station resends every few seconds and would drown the log,
 * yet an operator still sees it come back within the hour.
 */
const MISMATCH_WARN_INTERVAL_MS = 10 * 60_000;
/** Above this many remembered things, entries older than the interval are forgotten, so a flood of topics cannot grow the map for ever. */
const MISMATCH_MEMORY = 1_000;

export class RuleIngest {
  private readonly counters: IngestStats & { impersonations: number } = { received: 0, accepted: 0, rejected: 0, duplicates: 0, impersonations: 0 };
  private readonly rejectedBy: Partial<Record<RefusalReason, number>> = {};
  private lastWarn = -Infinity;
  private suppressed = 0;
  /** Per publishing thing: when its impersonation was last logged, and how many since. */
  private readonly mismatchWarned = new Map<string, { at: number; since: number }>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly rules: TopicRules,
    private readonly channels: Channels,
    private readonly things: ThingRegistry,
  ) {}

  stats(): IngestStats {
    return { ...this.counters, rejectedBy: { ...this.rejectedBy }, ...(this.counters.lastRejection ? { lastRejection: { ...this.counters.lastRejection } } : {}) };
  }

  /** Topic filters the subscriber must hold: the enabled rules' and the status filter. */
  filters(): string[] {
    const rules = this.rules.active().map((r) => r.topicFilter);
    const compressed = this.ctx.settings.mqtt.compressed ? compressedFilters(rules) : [];
    return [...new Set([...rules, ...compressed, this.ctx.settings.mqtt.statusTopic])];
  }

  async handle(received: string, wire: Buffer): Promise<void> {
    await this.handleOrThrow(received, wire, false);
  }

  /**
   * As handle, but a store failure worth retrying (isRetryableStoreError: SQLITE_BUSY past its timeout,
   * a lost database connection) throws instead of counting the message as refused, so the subscriber can
   * keep it unacknowledged and try again; such an attempt is not counted as received, the one that
   * succeeds is. Bad payloads and other failures are counted and never throw.
   */
  async handleOrThrow(received: string, wire: Buffer, throwRetryable = true): Promise<void> {
    let topic = received;
    try {
      // A compressed envelope is handled as the plain one it stands for, on its plain topic.
      const inflated = this.ctx.settings.mqtt.compressed ? inflateEnvelope(received, wire) : undefined;
      topic = inflated?.topic ?? received;
      const payload = inflated?.payload ?? wire;
      const maxBytes = inflated ? COMPRESSED_ENVELOPE.maxInflatedBytes : undefined;
      const status = STATUS_TOPIC.exec(topic);
      if (status && topicMatches(this.ctx.settings.mqtt.statusTopic, topic)) {
        await this.status(status[1]!, status[2]!, payload);
      }
      for (const rule of this.rules.active()) {
        if (topicMatches(rule.topicFilter, topic)) await this.applyRule(rule, topic, payload, maxBytes);
      }
    } catch (error) {
      if (throwRetryable && isRetryableStoreError(error)) throw error;
      this.counters.received += 1;
      if (error instanceof DeviceMismatchError) this.mismatch(topic, error);
      else if (!isEngineError(error)) {
        this.ctx.log.error({ err: error, topic }, 'ingest failed on a message with an error that retrying would not fix; it is refused (hedgerow_mqtt_refused_total{reason="internal"}), so it cannot hold up the messages behind it: check the database\'s log for why');
      }
      const kind = error instanceof DeviceMismatchError ? 'impersonation' : isEngineError(error) ? 'payload' : 'internal';
      this.reject(topic, error instanceof Error ? error.message : String(error), kind, kind === 'impersonation');
      return;
    }
    this.counters.received += 1;
  }

  private async applyRule(rule: ReturnType<TopicRules['active']>[number], topic: string, payload: Buffer, maxBytes?: number): Promise<void> {
    for (const action of rule.actions) {
      const batchMode = action.batchMode ?? false;
      const parsed = payloadMessages(payload, batchMode, this.ctx.newId, topic, maxBytes);
      for (const reason of parsed.rejected) this.reject(topic, reason, 'record');
      const messages = rule.where ? parsed.messages.filter((m) => rule.where!(m.value)) : parsed.messages;
      if (parsed.deviceId) await this.things.seen(parsed.deviceId, topic.split('/')[1] ?? '');
      for (let i = 0; i < messages.length; i += MAX_BATCH_MESSAGES) {
        const chunk = messages.slice(i, i + MAX_BATCH_MESSAGES).map((m) => ({ messageId: m.messageId, payload: JSON.stringify(m.value), value: m.value }));
        const fresh = await this.channels.store(action.channelName, chunk);
        this.counters.accepted += fresh;
        this.counters.duplicates += chunk.length - fresh;
      }
    }
  }

  private async status(app: string, thing: string, payload: Buffer): Promise<void> {
    // An empty retained message clears the retained status; the last known state stays.
    if (payload.length === 0) return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      this.reject(`dt/${app}/${thing}/status`, 'the status payload is not JSON', 'status');
      return;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      this.reject(`dt/${app}/${thing}/status`, 'the status payload must be a JSON object', 'status');
      return;
    }
    // The uplink's status names its thing (hardware/core/contract.ts deviceStatus): another thing's name is one station writing as another.
    const named = (body as { thing?: unknown }).thing;
    if (typeof named === 'string' && named !== thing) {
      const error = new DeviceMismatchError(named, thing, "the status payload's thing");
      this.mismatch(`dt/${app}/${thing}/status`, error);
      this.reject(`dt/${app}/${thing}/status`, error.message, 'impersonation', true);
      return;
    }
    await this.things.report(thing, app, body as Record<string, unknown>);
  }

  /** Counts a station writing as another, and logs it once per publishing thing per MISMATCH_WARN_INTERVAL_MS. */
  private mismatch(topic: string, error: DeviceMismatchError): void {
    this.counters.impersonations += 1;
    const at = this.ctx.clock.now();
    const seen = this.mismatchWarned.get(error.thing);
    if (seen && at - seen.at < MISMATCH_WARN_INTERVAL_MS) {
      seen.since += 1;
      return;
    }
    if (this.mismatchWarned.size >= MISMATCH_MEMORY) {
      for (const [thing, entry] of this.mismatchWarned) if (at - entry.at >= MISMATCH_WARN_INTERVAL_MS) this.mismatchWarned.delete(thing);
    }
    this.ctx.log.warn(
      { topic, thing: error.thing, deviceId: error.deviceId, alsoRefused: seen?.since ?? 0 },
      `refused payloads from ${error.thing} that claim to be ${error.deviceId}: check that station's deviceId (hedgerow config) or who holds its credentials; further ones are counted in ingestStats().impersonations for ${MISMATCH_WARN_INTERVAL_MS / 60_000} min`,
    );
    this.mismatchWarned.set(error.thing, { at, since: 0 });
  }

  /** `logged`: the caller already logged this rejection its own way, so only count it. */
  private reject(topic: string, reason: string, kind: RefusalReason, logged = false): void {
    this.counters.rejected += 1;
    this.rejectedBy[kind] = (this.rejectedBy[kind] ?? 0) + 1;
    const at = this.ctx.clock.now();
    this.counters.lastRejection = { topic, reason, at: new Date(at) };
    if (logged) return;
    if (at - this.lastWarn >= WARN_INTERVAL_MS) {
      this.ctx.log.warn({ topic, reason, alsoRejected: this.suppressed }, 'rejected an MQTT payload');
      this.lastWarn = at;
      this.suppressed = 0;
    } else {
      this.suppressed += 1;
    }
  }
}
