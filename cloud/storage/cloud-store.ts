import type { DatasetContentState, ReprocessingStatus, Tag } from '../engine/engine.ts';
import type { TranslatedQuery } from '../query/query-types.ts';
import type { Dialect } from '../query/sql-dialect.ts';
import type { PublishedCollectionRecord, PublishOutcome } from './published-collection-record.ts';

/**
 * Everything the engine keeps, behind one interface so a server backend (PostgreSQL) can replace the
 * SQLite files later. Times are epoch milliseconds. Resource names are unique per type ignoring case.
 * test/cloud/storage/cloud-store-conformance.ts is the suite every implementation must pass.
 */

export type ResourceType = 'channel' | 'pipeline' | 'datastore' | 'dataset' | 'rule';

export interface ResourceRecord<D = unknown> {
  type: ResourceType;
  name: string;
  /** The resource's definition as the engine keeps it (its Create request, normalised). */
  definition: D;
  createdAt: number;
  updatedAt: number;
}

export interface ChannelMessageIn {
  messageId: string;
  /** The JSON payload as UTF-8 bytes or text. */
  payload: Uint8Array | string;
}

export interface StoredMessage {
  /** Storage order, increasing with arrival. */
  seq: number;
  messageId: string;
  arrival: number;
  payload: Buffer;
}

export interface DatastoreRowIn {
  record: Record<string, unknown>;
  /** When the message reached the datastore. */
  arrival: number;
}

export interface ContentRecord {
  datasetName: string;
  versionId: string;
  state: DatasetContentState;
  reason?: string;
  creationTime: number;
  scheduleTime: number;
  completionTime?: number;
  /** The CSV's name once SUCCEEDED; its bytes are the content's body in the store (openContentBody). */
  file?: string;
  /** The deltaTime window [start, end) the content covered, in epoch ms. */
  windowStart?: number;
  windowEnd?: number;
  rowCount?: number;
}

export interface ReprocessingRecord {
  id: string;
  pipelineName: string;
  status: ReprocessingStatus;
  creationTime: number;
  startTime?: number;
  endTime?: number;
}

export interface ThingRecord {
  thingName: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  version: number;
  createdAt: number;
}

export interface ShadowRecord {
  thingName: string;
  reported: Record<string, unknown>;
  version: number;
  updatedAt: number;
}

/** Attributes a datastore is queried by: time attributes (timestampPartition) and device-like ones (attributePartition). */
export interface DatastoreIndexes {
  time: readonly string[];
  device: readonly string[];
}

export interface SizeStats {
  sizeBytes: number;
  lastArrival?: number;
  count: number;
}

/**
 * What changes a datastore's rows besides new arrivals, for the incremental dataset refresh
 * (cloud/engine/incremental-refresh.ts): if either field differs from what a previous content saw,
 * rows may have gone or changed and that content cannot be patched.
 */
export interface DatastoreMark {
  /** Opaque; a new value each time the datastore's storage is created (so a drop and re-create shows). */
  generation: string;
  /** How many expireDatastoreRows calls deleted at least one row since the storage was created. */
  removals: number;
  /** The largest __arrival stored, absent when the datastore is empty. */
  lastArrival?: number;
  /**
   * True when the time attribute named in the call exists with a numeric column type and no stored
   * value of it is text or binary (nulls are fine): then `attr >= a AND attr < b` selects exactly the
   * rows whose number lies in [a, b). False otherwise, or when the attribute never appeared.
   */
  numericTime: boolean;
}

export interface QueryResult {
  columns: string[];
  rowCount: number;
}

/**
 * A content's CSV (or a published bundle) as the store keeps it: in chunks of CONTENT_CHUNK_BYTES
 * (content-chunks.ts), so a body as large as cloud.queryResultMaxBytes is never one value in memory or on the wire.
 */
export interface ContentBody {
  sizeBytes: number;
  /**
   * The bytes in order, one chunk read per step; each call reads afresh. Throws if the content is
   * deleted while it is being read (retention, DeleteDatasetContent), rather than end short silently.
   */
  chunks(): AsyncIterable<Buffer>;
}

/** A small result read whole (CloudStore.queryRows): one array per row, in `columns` order. */
export interface QueryRows {
  columns: string[];
  rows: unknown[][];
}

/** One alert as the alert engine keeps it; `body` is the whole alert (cloud/alerts/alert-model.ts parses it). */
export interface StoredAlert {
  id: string;
  stationId: string;
  kind: string;
  startedAt: number;
  endedAt: number | null;
  body: unknown;
}

/** An event queued for one destination; the pair (eventId, destination) is queued at most once. */
export interface AlertOutboxEntry {
  eventId: string;
  destination: string;
  event: unknown;
}

/** A pending delivery, as AlertDelivery works it. */
export interface AlertOutboxRow {
  seq: number;
  destination: string;
  event: unknown;
  attempts: number;
}

/** A whole outbox row, for adopting an old alerts.sqlite (importAlertState). */
export interface AlertOutboxRecord extends AlertOutboxEntry {
  attempts: number;
  nextAt: number;
  createdAt: number;
  deliveredAt: number | null;
  failedReason: string | null;
  lastError: string | null;
}

/** Everything an alerts.sqlite held, read out for importAlertState. */
export interface AlertStateSnapshot {
  stations: { stationId: string; state: unknown }[];
  alerts: StoredAlert[];
  /** In the old file's order (its seq), which the import keeps. */
  outbox: AlertOutboxRecord[];
}

export interface CloudStore {
  open(): Promise<void>;
  close(): Promise<void>;

  getResource<D>(type: ResourceType, name: string): Promise<ResourceRecord<D> | undefined>;
  /** Ordered by name; `after` is exclusive. */
  listResources<D>(type: ResourceType, options?: { after?: string; limit?: number }): Promise<ResourceRecord<D>[]>;
  /** Inserts; false when a resource of that type and name (ignoring case) exists. */
  insertResource(record: ResourceRecord): Promise<boolean>;
  updateResource(type: ResourceType, name: string, definition: unknown, updatedAt: number): Promise<boolean>;
  deleteResource(type: ResourceType, name: string): Promise<boolean>;

  getTags(arn: string): Promise<Tag[]>;
  setTags(arn: string, tags: Tag[]): Promise<void>;
  removeTags(arn: string, keys: string[]): Promise<void>;
  deleteAllTags(arn: string): Promise<void>;
  getSetting<T>(key: string): Promise<T | undefined>;
  putSetting(key: string, value: unknown): Promise<void>;

  createChannelStorage(channel: string): Promise<void>;
  dropChannelStorage(channel: string): Promise<void>;
  /** Stores the messages in one transaction; `accepted[i]` is false for a messageId already stored. */
  appendChannelMessages(channel: string, messages: readonly ChannelMessageIn[], arrival: number): Promise<boolean[]>;
  /** Which of these messageIds the channel already stores (the database's unique key decides, not memory). */
  existingMessageIds(channel: string, messageIds: readonly string[]): Promise<Set<string>>;
  /**
   * ONE transaction: stores the channel messages and the datastore rows their pipelines made. If any
   * messageId is already stored (another worker committed it meanwhile), nothing at all is written and
   * it returns 'conflict'; the caller re-checks with existingMessageIds and retries with the fresh ones.
   */
  commitIngest(
    channel: string,
    messages: readonly ChannelMessageIn[],
    arrival: number,
    rows: readonly { datastore: string; rows: readonly DatastoreRowIn[] }[],
  ): Promise<'committed' | 'conflict'>;
  /** Newest first, within [start, end). */
  sampleChannelMessages(channel: string, options: { start?: number; end?: number; limit: number }): Promise<Buffer[]>;
  /** In storage order after `afterSeq`, within [start, end): pages for reprocessing. */
  readChannelMessages(channel: string, options: { start?: number; end?: number; afterSeq?: number; limit: number }): Promise<StoredMessage[]>;
  channelStats(channel: string, withSize: boolean): Promise<SizeStats>;
  /** Deletes messages that arrived before `time`; returns how many. */
  expireChannelMessages(channel: string, before: number): Promise<number>;

  /** Creates a datastore's storage; the attributes named here (and ts, device_id) are indexed once they appear. */
  createDatastoreStorage(datastore: string, indexes: DatastoreIndexes): Promise<void>;
  dropDatastoreStorage(datastore: string): Promise<void>;
  insertDatastoreRows(datastore: string, rows: readonly DatastoreRowIn[]): Promise<void>;
  datastoreStats(datastore: string, withSize: boolean): Promise<SizeStats>;
  /** Deletes rows that arrived before `time`; returns how many. Each call that deletes a row adds one to the mark's `removals`. */
  expireDatastoreRows(datastore: string, before: number): Promise<number>;
  /** How dataset SQL is written for this backend (cloud/query/sqlite-dialect.ts, postgres-dialect.ts): translate with it. */
  readonly sqlDialect: Dialect;
  /**
   * The datastore's mark (see DatastoreMark); `timeAttribute` is matched ignoring case. Cheap: a row
   * read, max(__arrival) and one index seek. Throws if the datastore's storage does not exist.
   */
  datastoreMark(datastore: string, timeAttribute: string): Promise<DatastoreMark>;
  /**
   * The distinct [device, time] value pairs, as stored (null for a missing attribute or one that never
   * appeared), of the rows whose __arrival is at or after `since`; attributes matched ignoring case.
   * At most `limit` pairs in no set order: `limit` pairs means there may be more. Reads the __arrival
   * index, so the cost follows the rows that arrived, not the datastore's size.
   */
  arrivedKeys(datastore: string, attributes: { device: string; time: string }, since: number, limit: number): Promise<[unknown, unknown][]>;
  /** Prepares a translated query without running it: undefined if SQLite accepts it, else SQLite's reason. */
  checkQuery(query: TranslatedQuery): Promise<string | undefined>;
  /** Stops queries that are running (they fail); used when the engine shuts down. */
  cancelQueries(): Promise<void>;
  /** Runs a checked, translated dataset query read-only with a time limit, writing CSV to `outFile`. */
  runQuery(query: TranslatedQuery, outFile: string, timeoutMs: number): Promise<QueryResult>;
  /**
   * Runs a translated read-only query on the datastores (the same views dataset SQL reads) and returns
   * its rows, for readers of small results such as the weather page. Read-only; stopped after
   * `timeoutMs` and refused past `maxRows` rows, each with a reason that says what to change; a query
   * the backend rejects fails with the backend's reason. It must not block the caller's event loop
   * (the SQLite store runs it in a query process). Numbers come back as numbers, strings as strings.
   */
  queryRows(query: TranslatedQuery, options: { timeoutMs: number; maxRows: number }): Promise<QueryRows>;

  /**
   * Inserts or replaces a content version's record. With `bodyFile`, the file's bytes become the
   * version's body in the same transaction (replacing any earlier body), so another engine sees a
   * SUCCEEDED version only together with its CSV. Without it, a stored body is left as it is.
   */
  putContent(record: ContentRecord, bodyFile?: string): Promise<void>;
  /** The version's body, or undefined when it has none (not SUCCEEDED, or deleted). */
  openContentBody(datasetName: string, versionId: string): Promise<ContentBody | undefined>;
  getContent(datasetName: string, versionId: string): Promise<ContentRecord | undefined>;
  /** Newest first by creation time. */
  listContents(datasetName: string): Promise<ContentRecord[]>;
  /** Deletes the version's record and its body in one transaction. */
  deleteContent(datasetName: string, versionId: string): Promise<void>;

  putReprocessing(record: ReprocessingRecord): Promise<void>;
  listReprocessings(pipelineName: string): Promise<ReprocessingRecord[]>;

  /**
   * True when `holder` now holds the lease `key`: newly taken, renewed because it already held it, or
   * taken over because the previous holder's lease expired (at `now`). False while another holder's
   * lease is live. Lets one of several workers run a job (a reprocessing, a sweep).
   */
  claimLease(key: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it (another holder's lease is left alone). */
  releaseLease(key: string, holder: string): Promise<void>;
  /** True for exactly one caller per key, ever (e.g. `schedule:weather_daily:<scheduleTime>`); keys older than 7 days may be pruned. */
  claimOnce(key: string, now: number): Promise<boolean>;

  putThing(thing: ThingRecord): Promise<void>;
  listThings(): Promise<ThingRecord[]>;
  putShadow(shadow: ShadowRecord): Promise<void>;
  listShadows(): Promise<ShadowRecord[]>;

  /**
   * The secret stored under `name` (the API's generated access key, the token key). When none is stored
   * it stores `candidate` first. Insert-if-absent, then read back: callers racing with different
   * candidates all get the one stored first, so engines starting at once on one database agree.
   * Kept in plain text: whoever can read the database can read it.
   */
  secret(name: string, candidate: string): Promise<string>;

  /** The alert engine's saved evaluation state of a station (cursor, rain window, active alerts), as JSON. */
  getAlertStationState(stationId: string): Promise<unknown>;
  /**
   * ONE transaction: the station's state, its alerts (upserted by id) and the events to deliver (a
   * repeated eventId and destination is ignored, so an event evaluated twice is queued once).
   */
  commitAlertState(stationId: string, state: unknown, alerts: readonly StoredAlert[], outbox: readonly AlertOutboxEntry[], now: number): Promise<void>;
  /** A station's alerts' bodies, oldest first; with `endedSince`, only those active or ended at or after it. */
  listAlerts(stationId: string, endedSince?: number): Promise<unknown[]>;
  /** For each of `destinations`, its oldest pending delivery when that is due at `now` (one at a time per destination, in order). */
  dueAlertDeliveries(now: number, destinations: readonly string[]): Promise<AlertOutboxRow[]>;
  /** When the earliest of each destination's oldest pending delivery falls due; undefined when none is pending. */
  nextAlertDue(destinations: readonly string[]): Promise<number | undefined>;
  /** Makes a destination's waiting deliveries due at `now` (its connection came back). */
  alertDeliveriesDueNow(destination: string, now: number): Promise<void>;
  alertDelivered(seq: number, now: number): Promise<void>;
  /** Gives a delivery up for good with its reason. */
  alertDeliveryFailed(seq: number, reason: string, now: number): Promise<void>;
  /** Counts an attempt that may pass later and sets when to try again. */
  alertDeliveryRetry(seq: number, nextAt: number, error: string): Promise<void>;
  /** Outbox rows by state: pending, delivered, failed. */
  alertOutboxCounts(): Promise<{ pending: number; delivered: number; failed: number }>;
  /** Removes delivered and failed outbox rows whose last attempt and creation are older than `before`. */
  pruneAlertOutbox(before: number): Promise<void>;
  /** Adopts an old alerts.sqlite's rows in one transaction, keeping what the store already has (station state, alert id, eventId and destination). */
  importAlertState(snapshot: AlertStateSnapshot): Promise<void>;

  /**
   * ONE transaction: decides the exchange's version rules against what is stored (PublishOutcome); when
   * the version is new, stores its row and the file's bytes as its bundle (CONTENT_CHUNK_BYTES chunks),
   * and deletes the name's versions past the newest `keepVersions` with their bundles. Another engine
   * sees a version only together with its whole bundle.
   */
  putPublishedCollection(record: PublishedCollectionRecord, bundleFile: string, options: { keepVersions: number }): Promise<PublishOutcome>;
  /** The latest version of each published collection, ordered by name (byte order). */
  listPublishedCollections(): Promise<PublishedCollectionRecord[]>;
  /** Every kept version of one collection, newest first. */
  listPublishedVersions(name: string): Promise<PublishedCollectionRecord[]>;
  /** One version of a collection, or its latest without `version`; undefined when there is none. */
  publishedCollection(name: string, version?: number): Promise<PublishedCollectionRecord | undefined>;
  /** A version's bundle, or undefined when that version is not stored; reading throws if it is deleted meanwhile. */
  openPublishedBundle(name: string, version: number): Promise<ContentBody | undefined>;
  /** Deletes every version of the collection with its bundle, in one transaction; how many versions went. */
  deletePublishedCollection(name: string): Promise<number>;
}
