import pg from 'pg';
import { maskUrlPassword } from '../../hardware/core/config-file.ts';
import type { Tag } from '../engine/engine.ts';
import { POSTGRES } from '../query/postgres-dialect.ts';
import type { TranslatedQuery } from '../query/query-types.ts';
import type {
  AlertOutboxEntry, AlertOutboxRow, AlertStateSnapshot, StoredAlert,
  ChannelMessageIn, CloudStore, ContentBody, ContentRecord, DatastoreIndexes, DatastoreMark, DatastoreRowIn, QueryResult, QueryRows, ReprocessingRecord, ResourceRecord,
  ResourceType, ShadowRecord, SizeStats, StoredMessage, ThingRecord,
} from './cloud-store.ts';
import { PostgresAlertState } from './postgres-alert-state.ts';
import { PostgresCatalog } from './postgres-catalog.ts';
import { PostgresChannels, isDuplicateMessage } from './postgres-channels.ts';
import { PostgresDatastores } from './postgres-datastores.ts';
import { migratePostgres } from './postgres-migrations.ts';
import { PostgresPublishedCollections } from './postgres-published-collections.ts';
import { PostgresQueries } from './postgres-query.ts';
import type { PublishedCollectionRecord, PublishOutcome } from './published-collection-record.ts';
import { SqlParams, oneStatement } from './postgres-statement.ts';
import { DEFAULT_RUNNER_OPTIONS } from './sqlite-query-runner.ts';

/**
 * The PostgreSQL backend: every engine process sharing one database, through a pg.Pool. The schema is
 * versioned (postgres-migrations.ts) and applied at open. Dedup, leases and run-once claims live in the
 * database, so they hold across workers and restarts.
 */

export interface PostgresStoreOptions {
  url: string;
  /** Connections in this process's pool. */
  poolSize: number;
  /** Dataset results' caps, as SQLite's (cloud.queryResultMaxRows / MaxBytes). */
  maxRows?: number;
  maxBytes?: number;
}

/** Run-once claims older than this may be pruned (contract 4). */
const CLAIM_KEEP_MS = 7 * 24 * 3600_000;

export class PostgresStore implements CloudStore {
  private pool: pg.Pool | undefined;
  private parts: { alerts: PostgresAlertState; catalog: PostgresCatalog; channels: PostgresChannels; datastores: PostgresDatastores; published: PostgresPublishedCollections; queries: PostgresQueries } | undefined;

  constructor(private readonly options: PostgresStoreOptions) {}

  async open(): Promise<void> {
    const pool = new pg.Pool({ connectionString: this.options.url, max: this.options.poolSize });
    // An idle connection the server dropped: the pool discards it and opens a new one when asked.
    pool.on('error', () => undefined);
    // The pool listens only to idle connections. One checked out (a transaction between two statements)
    // that the server drops emits 'error' with nobody listening, which would end the process; its
    // statement fails anyway, and the pool discards the connection when it is released.
    pool.on('connect', (client) => client.on('error', () => undefined));
    try {
      await migratePostgres(pool);
    } catch (e) {
      await pool.end();
      const reason = e instanceof Error ? e.message : String(e);
      throw new Error(`cloud.storage: cannot open the PostgreSQL database ${maskUrlPassword(this.options.url)}: ${reason.replaceAll(this.passwordOf(), '***')}. `
        + 'Check the URL, the user and password, and that the server is running and reachable.');
    }
    this.pool = pool;
    this.parts = {
      alerts: new PostgresAlertState(pool),
      catalog: new PostgresCatalog(pool),
      channels: new PostgresChannels(pool),
      datastores: new PostgresDatastores(pool),
      published: new PostgresPublishedCollections(pool),
      queries: new PostgresQueries(pool, { maxRows: this.options.maxRows ?? DEFAULT_RUNNER_OPTIONS.maxRows, maxBytes: this.options.maxBytes ?? DEFAULT_RUNNER_OPTIONS.maxBytes }),
    };
    // Dataset SQL's helper functions (schema hedgerow_sql), installed under an advisory lock.
    await this.parts.queries.prepare();
  }

  readonly sqlDialect = POSTGRES;

  private passwordOf(): string {
    try {
      return decodeURIComponent(new URL(this.options.url).password) || '\u0000';
    } catch {
      return '\u0000';
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = this.parts = undefined;
    await pool?.end();
  }

  private get p(): NonNullable<PostgresStore['parts']> {
    if (!this.parts) throw new Error('the store is not open');
    return this.parts;
  }

  getResource<D>(type: ResourceType, name: string): Promise<ResourceRecord<D> | undefined> {
    return this.p.catalog.getResource<D>(type, name);
  }
  listResources<D>(type: ResourceType, options: { after?: string; limit?: number } = {}): Promise<ResourceRecord<D>[]> {
    return this.p.catalog.listResources<D>(type, options.after, options.limit);
  }
  insertResource(record: ResourceRecord): Promise<boolean> {
    return this.p.catalog.insertResource(record);
  }
  updateResource(type: ResourceType, name: string, definition: unknown, updatedAt: number): Promise<boolean> {
    return this.p.catalog.updateResource(type, name, definition, updatedAt);
  }
  deleteResource(type: ResourceType, name: string): Promise<boolean> {
    return this.p.catalog.deleteResource(type, name);
  }
  getTags(arn: string): Promise<Tag[]> {
    return this.p.catalog.getTags(arn);
  }
  setTags(arn: string, tags: Tag[]): Promise<void> {
    return this.p.catalog.setTags(arn, tags);
  }
  removeTags(arn: string, keys: string[]): Promise<void> {
    return this.p.catalog.removeTags(arn, keys);
  }
  deleteAllTags(arn: string): Promise<void> {
    return this.p.catalog.deleteAllTags(arn);
  }
  getSetting<T>(key: string): Promise<T | undefined> {
    return this.p.catalog.getSetting<T>(key);
  }
  putSetting(key: string, value: unknown): Promise<void> {
    return this.p.catalog.putSetting(key, value);
  }

  /** All channels share one table, so there is nothing to create. */
  async createChannelStorage(_channel: string): Promise<void> {}
  dropChannelStorage(channel: string): Promise<void> {
    return this.p.channels.drop(channel);
  }
  appendChannelMessages(channel: string, messages: readonly ChannelMessageIn[], arrival: number): Promise<boolean[]> {
    return this.p.channels.append(channel, messages, arrival);
  }
  sampleChannelMessages(channel: string, options: { start?: number; end?: number; limit: number }): Promise<Buffer[]> {
    return this.p.channels.sample(channel, options.start, options.end, options.limit);
  }
  readChannelMessages(channel: string, options: { start?: number; end?: number; afterSeq?: number; limit: number }): Promise<StoredMessage[]> {
    return this.p.channels.read(channel, options);
  }
  channelStats(channel: string, withSize: boolean): Promise<SizeStats> {
    return this.p.channels.stats(channel, withSize);
  }
  expireChannelMessages(channel: string, before: number): Promise<number> {
    return this.p.channels.expire(channel, before);
  }

  /** Contract 1: which of these messageIds the channel already holds. */
  existingMessageIds(channel: string, messageIds: readonly string[]): Promise<Set<string>> {
    return this.p.channels.existing(channel, messageIds);
  }

  /**
   * Contract 2: the channel messages and their datastore rows in one statement, so all or nothing
   * without a transaction's round trips; nothing on a duplicate messageId ('conflict').
   */
  async commitIngest(
    channel: string, messages: readonly ChannelMessageIn[], arrival: number, rows: readonly { datastore: string; rows: readonly DatastoreRowIn[] }[],
  ): Promise<'committed' | 'conflict'> {
    if (!this.pool) throw new Error('the store is not open');
    const params = new SqlParams();
    const writes = messages.length > 0 ? [this.p.channels.insertAllSql(channel, messages, arrival, params)] : [];
    for (const target of rows) if (target.rows.length > 0) writes.push(await this.p.datastores.insertSql(target.datastore, target.rows, params));
    if (writes.length === 0) return 'committed';
    try {
      await this.pool.query(oneStatement(writes), params.values);
      return 'committed';
    } catch (e) {
      if (isDuplicateMessage(e)) return 'conflict';
      throw e;
    }
  }

  /** Contract 3: takes, renews or takes over an expired lease in one statement. */
  async claimLease(key: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    if (!this.pool) throw new Error('the store is not open');
    const { rowCount } = await this.pool.query(
      `INSERT INTO leases (key, holder, expires) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
       WHERE leases.holder = excluded.holder OR leases.expires <= $4`,
      [key, holder, now + ttlMs, now],
    );
    return rowCount === 1;
  }
  async releaseLease(key: string, holder: string): Promise<void> {
    if (!this.pool) throw new Error('the store is not open');
    await this.pool.query('DELETE FROM leases WHERE key = $1 AND holder = $2', [key, holder]);
  }

  /** Contract 4: true for exactly one caller per key; prunes claims older than seven days. */
  async claimOnce(key: string, now: number): Promise<boolean> {
    if (!this.pool) throw new Error('the store is not open');
    await this.pool.query('DELETE FROM claims WHERE claimed_at < $1', [now - CLAIM_KEEP_MS]);
    const { rowCount } = await this.pool.query('INSERT INTO claims (key, claimed_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [key, now]);
    return rowCount === 1;
  }

  createDatastoreStorage(datastore: string, indexes: DatastoreIndexes): Promise<void> {
    return this.p.datastores.create(datastore, indexes);
  }
  dropDatastoreStorage(datastore: string): Promise<void> {
    return this.p.datastores.drop(datastore);
  }
  insertDatastoreRows(datastore: string, rows: readonly DatastoreRowIn[]): Promise<void> {
    return this.p.datastores.insert(datastore, rows);
  }
  datastoreStats(datastore: string, withSize: boolean): Promise<SizeStats> {
    return this.p.datastores.stats(datastore, withSize);
  }
  expireDatastoreRows(datastore: string, before: number): Promise<number> {
    return this.p.datastores.expire(datastore, before);
  }

  checkQuery(query: TranslatedQuery): Promise<string | undefined> {
    return this.p.queries.check(query);
  }
  async cancelQueries(): Promise<void> {
    if (this.parts) await this.parts.queries.cancelAll();
  }
  runQuery(query: TranslatedQuery, outFile: string, timeoutMs: number): Promise<QueryResult> {
    return this.p.queries.run(query, outFile, timeoutMs);
  }
  queryRows(query: TranslatedQuery, options: { timeoutMs: number; maxRows: number }): Promise<QueryRows> {
    return this.p.queries.rows(query, options);
  }
  datastoreMark(datastore: string, timeAttribute: string): Promise<DatastoreMark> {
    return this.p.datastores.mark(datastore, timeAttribute);
  }
  arrivedKeys(datastore: string, attributes: { device: string; time: string }, since: number, limit: number): Promise<[unknown, unknown][]> {
    return this.p.datastores.arrivedKeys(datastore, attributes, since, limit);
  }

  putContent(record: ContentRecord, bodyFile?: string): Promise<void> {
    return this.p.catalog.putContent(record, bodyFile);
  }
  openContentBody(datasetName: string, versionId: string): Promise<ContentBody | undefined> {
    return this.p.catalog.openContentBody(datasetName, versionId);
  }
  getContent(datasetName: string, versionId: string): Promise<ContentRecord | undefined> {
    return this.p.catalog.getContent(datasetName, versionId);
  }
  listContents(datasetName: string): Promise<ContentRecord[]> {
    return this.p.catalog.listContents(datasetName);
  }
  deleteContent(datasetName: string, versionId: string): Promise<void> {
    return this.p.catalog.deleteContent(datasetName, versionId);
  }
  putReprocessing(record: ReprocessingRecord): Promise<void> {
    return this.p.catalog.putReprocessing(record);
  }
  listReprocessings(pipelineName: string): Promise<ReprocessingRecord[]> {
    return this.p.catalog.listReprocessings(pipelineName);
  }
  putThing(thing: ThingRecord): Promise<void> {
    return this.p.catalog.putThing(thing);
  }
  listThings(): Promise<ThingRecord[]> {
    return this.p.catalog.listThings();
  }
  putShadow(shadow: ShadowRecord): Promise<void> {
    return this.p.catalog.putShadow(shadow);
  }
  listShadows(): Promise<ShadowRecord[]> {
    return this.p.catalog.listShadows();
  }

  /** Insert-if-absent, then read back: of engines racing on an empty database, the first insert wins for all. */
  async secret(name: string, candidate: string): Promise<string> {
    if (!this.pool) throw new Error('the store is not open');
    await this.pool.query('INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [name, candidate, Date.now()]);
    return (await this.pool.query<{ value: string }>('SELECT value FROM secrets WHERE name = $1', [name])).rows[0]!.value;
  }

  getAlertStationState(stationId: string): Promise<unknown> {
    return this.p.alerts.stationState(stationId);
  }
  commitAlertState(stationId: string, state: unknown, alerts: readonly StoredAlert[], outbox: readonly AlertOutboxEntry[], now: number): Promise<void> {
    return this.p.alerts.commit(stationId, state, alerts, outbox, now);
  }
  listAlerts(stationId: string, endedSince?: number): Promise<unknown[]> {
    return this.p.alerts.alerts(stationId, endedSince);
  }
  dueAlertDeliveries(now: number, destinations: readonly string[]): Promise<AlertOutboxRow[]> {
    return this.p.alerts.due(now, destinations);
  }
  nextAlertDue(destinations: readonly string[]): Promise<number | undefined> {
    return this.p.alerts.nextDue(destinations);
  }
  alertDeliveriesDueNow(destination: string, now: number): Promise<void> {
    return this.p.alerts.dueNow(destination, now);
  }
  alertDelivered(seq: number, now: number): Promise<void> {
    return this.p.alerts.delivered(seq, now);
  }
  alertDeliveryFailed(seq: number, reason: string, now: number): Promise<void> {
    return this.p.alerts.failed(seq, reason, now);
  }
  alertDeliveryRetry(seq: number, nextAt: number, error: string): Promise<void> {
    return this.p.alerts.retryAt(seq, nextAt, error);
  }
  alertOutboxCounts(): Promise<{ pending: number; delivered: number; failed: number }> {
    return this.p.alerts.counts();
  }
  pruneAlertOutbox(before: number): Promise<void> {
    return this.p.alerts.prune(before);
  }
  importAlertState(snapshot: AlertStateSnapshot): Promise<void> {
    return this.p.alerts.import(snapshot);
  }

  putPublishedCollection(record: PublishedCollectionRecord, bundleFile: string, options: { keepVersions: number }): Promise<PublishOutcome> {
    return this.p.published.put(record, bundleFile, options.keepVersions);
  }
  listPublishedCollections(): Promise<PublishedCollectionRecord[]> {
    return this.p.published.latestOfEach();
  }
  listPublishedVersions(name: string): Promise<PublishedCollectionRecord[]> {
    return this.p.published.versions(name);
  }
  publishedCollection(name: string, version?: number): Promise<PublishedCollectionRecord | undefined> {
    return this.p.published.get(name, version);
  }
  openPublishedBundle(name: string, version: number): Promise<ContentBody | undefined> {
    return this.p.published.openBundle(name, version);
  }
  deletePublishedCollection(name: string): Promise<number> {
    return this.p.published.delete(name);
  }
}
