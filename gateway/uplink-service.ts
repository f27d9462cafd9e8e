import type { Logger } from 'pino';
import type { Extension } from '../hardware/core/extension.ts';
import { COMPRESSED_ENVELOPE, IOT_CORE, topics } from '../hardware/core/contract.ts';
import { Backoff } from './backoff.ts';
import { encodeEnvelope } from './envelope.ts';
import { compressedMessages } from './envelope-compression.ts';
import { StationMetrics } from './metrics.ts';
import type { StampedEnvelope } from './envelope.ts';
import type { Outbox, StampCursor } from './outbox.ts';
import { PublishRate, realSleep } from './publish-rate.ts';
import type { Sleep } from './publish-rate.ts';
import { effectiveLimits } from './settings.ts';
import type { UplinkSettings } from './settings.ts';
import { buildStatus, publicBrokerUrl, writeStatusFile } from './status.ts';
import type { ConnectionState, UplinkStatus } from './status.ts';
import { PublishRefusedError } from './uplink.ts';
import type { UplinkConnector, UplinkSession } from './uplink.ts';

/**
 * Acknowledgements are deleted with the next stamping (one transaction for both), or on their own
 * once this many pile up or ACK_FLUSH_MS passes. A crash re-sends at most these (same messageIds).
 */
const ACK_BATCH = 400;
const ACK_FLUSH_MS = 10;
/** Most record bytes stamped ahead of the free slots of the in-flight window. */
const READ_AHEAD_BYTES = 256 * 1024;
/** Small envelopes are stamped up to this many windows at a time: a commit costs as much as ~50 small publishes. */
const STAMP_AHEAD_WINDOWS = 4;
/** AWS IoT Core accepts one CONNECT per second per client id. */
const IOT_CORE_CONNECT_SPACING_MS = IOT_CORE.connectSpacingMs;
/** How long a clean stop waits for its final "offline" status to be acknowledged. */
const STOP_STATUS_TIMEOUT_MS = 1_000;

export interface UplinkServiceOptions {
  /** The outbox, opened by an extension that starts before this one. */
  outbox: () => Outbox;
  connector: UplinkConnector;
  settings: UplinkSettings;
  /** Thing name: status topic level, default client id. */
  thing: string;
  log: Logger;
  now?: () => number;
  sleep?: Sleep;
  random?: () => number;
  /** Told about sessions and deliveries, e.g. Home Assistant discovery (gateway/home-assistant.ts). */
  observer?: UplinkObserver;
}

/** What another part may see of the drain: it publishes beside it, never instead of it. */
export interface UplinkObserver {
  /** A session came up (after the uplink's own "online" state). */
  connected(session: UplinkSession): void;
  /** The session is gone. */
  disconnected(): void;
  /**
   * An envelope is about to be published, its records still in `body`: return what to run after its
   * PUBACK, or undefined. Called on the drain's hot path, so it must be cheap for envelopes it ignores.
   */
  sending(envelope: StampedEnvelope): (() => void) | undefined;
}

/**
 * The drain loop: connect (backoff with full jitter), send envelopes from the outbox with QoS 1,
 * delete their rows only after the PUBACK, and publish a retained status. Live rows (appended after
 * the connection came up) are stamped before the backlog; the in-flight window and publish rate
 * follow the broker's and the profile's limits.
 */
export class UplinkService implements Extension {
  readonly name = 'uplink';
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly abort = new AbortController();
  /** Resolvers of the drain loop's wait, called by the next wake(). */
  private readonly waiters = new Set<() => void>();
  private readonly ackQueue: number[] = [];
  /** Envelopes stamped ahead of a free slot, not published yet; dropped with their session. */
  private ready: StampedEnvelope[] = [];
  /** Ids of stamped envelopes never published by this run, so re-sending them is not counted as a retry. */
  private readonly unpublished = new Set<number>();
  private ackTimer: NodeJS.Timeout | undefined;
  private session: UplinkSession | undefined;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private state: ConnectionState = 'connecting';
  private since: number;
  private lastError: string | null = null;
  private readonly statusTopic: string;
  /** Publishes and PUBACK times, beside the outbox's own totals; sent in the status message. */
  private readonly metrics: StationMetrics;

  constructor(private readonly options: UplinkServiceOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    this.since = this.now();
    this.statusTopic = topics.status(options.settings.app, options.thing);
    this.metrics = new StationMetrics({ outbox: options.outbox, state: () => this.state });
  }

  async start(): Promise<void> {
    this.unsubscribe = this.options.outbox().onAppend(() => this.wake());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake();
    const session = this.session;
    if (session) {
      this.setState('stopped');
      await Promise.race([this.publishStatus(session).catch(() => {}), this.sleep(STOP_STATUS_TIMEOUT_MS)]);
      await session.end();
    }
    await this.loop;
    this.flushAcks();
    this.unsubscribe?.();
    this.setState('stopped');
  }

  /** The current status, as published. */
  status(): UplinkStatus {
    return buildStatus(
      {
        thing: this.options.thing,
        state: this.state,
        since: this.since,
        client: this.options.connector.kind,
        protocol: this.session?.protocol ?? null,
        broker: publicBrokerUrl(this.options.settings.url),
        lastError: this.lastError,
      },
      this.options.outbox().stats(),
      this.now(),
    );
  }

  private async run(): Promise<void> {
    const { settings, log, connector } = this.options;
    const backoff = new Backoff(settings.reconnectMin, settings.reconnectMax, this.options.random);
    const signal = this.abort.signal;
    let lastConnectAt = -Infinity;
    while (!signal.aborted) {
      if (settings.profile === 'iot-core') {
        // IoT Core throttles a client id to one CONNECT per second.
        const wait = lastConnectAt + IOT_CORE_CONNECT_SPACING_MS - this.now();
        if (wait > 0) await this.sleep(wait, signal);
      }
      lastConnectAt = this.now();
      let session: UplinkSession;
      try {
        session = await connector.connect(this.will());
      } catch (error) {
        const delay = backoff.next();
        this.lastError = (error as Error).message;
        this.setState('offline');
        log.warn(`cannot reach ${publicBrokerUrl(settings.url)} (${this.lastError}): retrying in ${delay} ms`);
        await this.sleep(delay, signal);
        continue;
      }
      if (signal.aborted) {
        await session.end();
        break;
      }
      this.session = session;
      this.setState('online');
      log.info(`uplink connected to ${publicBrokerUrl(settings.url)} with ${connector.kind} (${session.protocol})`);
      this.options.observer?.connected(session);
      const { refused } = await this.drain(session);
      this.session = undefined;
      this.options.observer?.disconnected();
      // Stamped envelopes not sent yet stay in the outbox, where the next session re-reads them first.
      this.ready = [];
      this.flushAcks();
      if (signal.aborted) break;
      // A broker that refuses a publish will refuse it again: keep backing off instead of starting over.
      if (!refused) backoff.reset();
      const reason = await session.closed;
      this.lastError = refused ? this.lastError : (reason?.message ?? 'connection closed');
      this.setState('offline');
      const delay = backoff.next();
      log.warn(`uplink lost its connection (${this.lastError}): reconnecting in ${delay} ms; queued records stay in the outbox`);
      await this.sleep(delay, signal);
    }
  }

  /** Sends until the session closes or the service stops. */
  private async drain(session: UplinkSession): Promise<{ refused: boolean }> {
    const { settings, log } = this.options;
    const outbox = this.options.outbox();
    const signal = this.abort.signal;
    const limits = effectiveLimits(settings);
    // One slot of the broker's window stays free for the status message.
    const window = Math.max(1, Math.min(limits.inFlight, session.receiveMaximum ?? Infinity) - 1);
    const rate = new PublishRate(limits.publishesPerSecond, this.now, this.sleep);
    // Compressed envelopes are grouped up to what the cloud inflates; each is deflated under maxEnvelopeBytes.
    const compress = settings.compression === 'deflate';
    const grouping = { maxRecords: settings.maxRecordsPerEnvelope, maxBytes: compress ? COMPRESSED_ENVELOPE.maxInflatedBytes : settings.maxEnvelopeBytes };
    const liveMark = outbox.lastId();
    const cursors = { live: { scannedTo: liveMark }, backlog: { scannedTo: 0 } };
    // Envelopes formed before this session (published, maybe delivered, never acknowledged) go
    // first, read a window at a time so a long list never sits in memory with its records.
    const retryIds = outbox.pendingEnvelopeIds();
    if (retryIds.length > 0) {
      log.info(`re-sending ${retryIds.length} envelopes that were published but not acknowledged before (same messageIds)`);
    }
    let open = true;
    void session.closed.then(() => {
      open = false;
      this.wake();
    });
    const inFlight = new Set<number>();
    let inFlightBytes = 0;
    // A spent byte budget stops refills until PUBACKs return it; an empty window always takes one.
    const overBudget = () => inFlight.size > 0 && inFlightBytes >= settings.maxInFlightBytes;
    const ticker = this.startTicker(settings.pollInterval);
    let nextStatusAt = 0;
    let refused = false;

    const send = (envelope: StampedEnvelope) => {
      // Only the id and names outlive this call: the records are in the payload now, and a retry
      // reads them back from the outbox, so a large window does not hold every record twice.
      const { id, messageId, topic } = envelope;
      this.unpublished.delete(id);
      const delivered = this.options.observer?.sending(envelope);
      const compressed = compress ? compressedMessages(envelope, this.now(), settings.maxEnvelopeBytes) : undefined;
      const payload = compressed ? undefined : encodeEnvelope(envelope, this.now());
      envelope.body = '';
      inFlight.add(id);
      // UTF-16 length: the byte count for the ASCII JSON that records almost always are.
      const size = payload?.length ?? compressed!.reduce((sum, message) => sum + message.payload.length, 0);
      inFlightBytes += size;
      const publishedAt = this.now();
      this.metrics.published();
      // A compressed envelope split in parts (envelope-compression.ts) is delivered when every part is.
      const published = payload !== undefined ? session.publish(topic, payload) : Promise.all(compressed!.map((message) => session.publish(message.topic, message.payload))).then(() => undefined);
      published.then(
        () => {
          this.metrics.acknowledged(this.now() - publishedAt);
          inFlight.delete(id);
          inFlightBytes -= size;
          this.queueAck(id);
          delivered?.();
          this.wake();
        },
        (error: unknown) => {
          inFlight.delete(id);
          inFlightBytes -= size;
          if (error instanceof PublishRefusedError && !refused) {
            // The rows stay queued: a refusal (e.g. not authorized) is fixed on the broker, then retried.
            refused = true;
            this.lastError = error.message;
            log.error(`broker refused envelope ${messageId} on ${topic} (${error.message}): reconnecting to retry it`);
            void session.end();
          }
          this.wake();
        },
      );
    };

    try {
      while (open && !signal.aborted) {
        if (this.now() >= nextStatusAt) {
          nextStatusAt = this.now() + settings.statusInterval;
          await rate.take(signal);
          this.publishStatus(session).catch(() => {});
        }
        let room = overBudget() ? 0 : window - inFlight.size;
        // Refill at every free slot: waiting for a bigger gap lets the pipe run dry, and a broker that
        // batches its PUBACKs behind Nagle's algorithm then stalls for a delayed-ACK timeout each time.
        if (room >= 1) {
          // Read only what the publish rate lets go now: envelopes read ahead of the rate would wait
          // in memory, and live rows appended meanwhile would wait behind them.
          const allowed = rate.available();
          if (allowed === 0) {
            await rate.wait(signal);
            continue;
          }
          room = Math.min(room, allowed);
          const batch =
            retryIds.length > 0
              ? this.retryBatch(outbox, retryIds.splice(0, room))
              : this.stampNext(outbox, { ...grouping, maxEnvelopes: room }, window, liveMark, cursors);
          for (const [index, envelope] of batch.entries()) {
            if (overBudget()) {
              // The rest wait, first in line, for PUBACKs to return the budget.
              const waiting = batch.slice(index);
              for (const held of waiting) this.unpublished.add(held.id);
              this.ready.unshift(...waiting);
              break;
            }
            if (!rate.tryTake()) await rate.take(signal);
            if (!open || signal.aborted) break;
            send(envelope);
          }
          if (batch.length > 0) continue;
        }
        await this.waitForWake();
      }
    } finally {
      ticker.abort();
    }
    return { refused };
  }

  private retryBatch(outbox: Outbox, ids: number[]): StampedEnvelope[] {
    const envelopes = outbox.envelopesById(ids);
    // Envelopes stamped ahead by an earlier session of this run but never published are not retries.
    outbox.countRetries(envelopes.filter((envelope) => !this.unpublished.delete(envelope.id)).length);
    return envelopes;
  }

  /**
   * Live rows first, then envelopes already stamped ahead, then the backlog that was queued when the
   * connection came up. Backlog envelopes are stamped up to STAMP_AHEAD_WINDOWS windows at a time
   * (within READ_AHEAD_BYTES past the free slots), so small ones cost one transaction per several
   * hundred publishes; the ones not sent yet wait in `ready`, behind any live rows that arrive meanwhile.
   */
  private stampNext(
    outbox: Outbox,
    limits: { maxRecords: number; maxBytes: number; maxEnvelopes: number },
    window: number,
    liveMark: number,
    cursors: { live: StampCursor; backlog: StampCursor },
  ): StampedEnvelope[] {
    // A cheap look at the last row id spares a transaction when nothing was appended.
    const live =
      outbox.lastId() > cursors.live.scannedTo
        ? outbox.stampEnvelopes({ ...limits, afterId: liveMark, cursor: cursors.live, acknowledged: this.takeAcks() })
        : [];
    let room = limits.maxEnvelopes - live.length;
    if (room <= 0) return live;
    const ready = this.ready.splice(0, room);
    room -= ready.length;
    if (room <= 0) return [...live, ...ready];
    const backlog = outbox.stampEnvelopes({
      ...limits,
      maxEnvelopes: window * STAMP_AHEAD_WINDOWS,
      fill: room,
      readAheadBytes: READ_AHEAD_BYTES,
      upToId: liveMark,
      cursor: cursors.backlog,
      acknowledged: this.takeAcks(),
    });
    for (const envelope of backlog.slice(room)) this.unpublished.add(envelope.id);
    this.ready.push(...backlog.slice(room));
    return [...live, ...ready, ...backlog.slice(0, room)];
  }

  private queueAck(envelopeId: number): void {
    this.ackQueue.push(envelopeId);
    if (this.ackQueue.length >= ACK_BATCH) this.flushAcks();
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), ACK_FLUSH_MS);
  }

  private flushAcks(): void {
    const acks = this.takeAcks();
    if (acks.length > 0) this.options.outbox().ackEnvelopes(acks);
  }

  /** The queued acknowledgements, for a transaction that deletes them: stamping takes them along. */
  private takeAcks(): number[] {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    return this.ackQueue.splice(0);
  }

  private async publishStatus(session: UplinkSession): Promise<void> {
    // Metrics first: status() then reads the outbox at the same moment, so both show the same depth.
    const metrics = await this.metrics.compact();
    const status = { ...this.status(), metrics };
    writeStatusFile(this.options.outbox().path, status, this.options.log);
    await session.publish(this.statusTopic, JSON.stringify(status), { retain: true });
  }

  private will() {
    const offline = { ...this.status(), state: 'offline' as const, lastError: 'connection lost without a clean close' };
    return { topic: this.statusTopic, payload: Buffer.from(JSON.stringify(offline)) };
  }

  private setState(state: ConnectionState): void {
    if (state !== this.state) this.since = this.now();
    this.state = state;
    writeStatusFile(this.options.outbox().path, this.status(), this.options.log);
  }

  private wake(): void {
    if (this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter();
  }

  /**
   * Resolves at the next wake(): a PUBACK, an append by this process, the session closing, stop(),
   * or the ticker. No timer per wait: at thousands of PUBACKs a second, arming and clearing one
   * each time cost more than the SQLite work the wake-up leads to.
   */
  private waitForWake(): Promise<void> {
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  /** Wakes the drain loop every `ms` until aborted: rows appended by another process, status due. */
  private startTicker(ms: number): AbortController {
    const ticker = new AbortController();
    const signal = AbortSignal.any([ticker.signal, this.abort.signal]);
    void (async () => {
      while (!signal.aborted) {
        await this.sleep(ms, signal);
        this.wake();
      }
    })();
    return ticker;
  }
}
