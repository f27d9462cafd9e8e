import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Tag } from '../engine/engine.ts';
import type { TranslatedQuery } from '../query/query-types.ts';
import { SQLITE } from '../query/sqlite-dialect.ts';
import type {
  AlertOutboxEntry, AlertOutboxRow, AlertStateSnapshot, StoredAlert,
  ChannelMessageIn, CloudStore, ContentBody, ContentRecord, DatastoreIndexes, DatastoreMark, DatastoreRowIn, QueryResult, QueryRows, ReprocessingRecord, ResourceRecord,
  ResourceType, ShadowRecord, SizeStats, StoredMessage, ThingRecord,
} from './cloud-store.ts';
import type { PublishedCollectionRecord, PublishOutcome } from './published-collection-record.ts';
import { SqliteCatalog } from './sqlite-catalog.ts';
import { SqliteAlertState } from './sqlite-alert-state.ts';
import { adoptChannelsFile } from './sqlite-channel-adoption.ts';
import { SqliteChannels } from './sqlite-channels.ts';
import { SqliteDatastores } from './sqlite-datastores.ts';
import { SqlitePublishedCollections } from './sqlite-published-collections.ts';
import { registerQueryFunctions } from './sqlite-query-functions.ts';
import { DEFAULT_RUNNER_OPTIONS, SqliteQueryRunner, type QueryRunnerOptions } from './sqlite-query-runner.ts';
import { storedSecret } from './sqlite-secrets.ts';

/** queryRows: two page reads at once (the compare view asks for several stations); the row cap is the caller's. */
const ROW_QUERY_OPTIONS: QueryRunnerOptions = { ...DEFAULT_RUNNER_OPTIONS, concurrency: 2 };

/**
 * The SQLite backend: one folder with catalog.sqlite (with the dataset content bodies) and
 * datastores.sqlite (WAL), each with its versioned schema (sqlite-migrations.ts). Channel tables live
 * in datastores.sqlite too, so a message and its datastore rows commit in one transaction (SQLite
 * is atomic per file only); dataset SQL still reaches nothing but the datastore views, because the
 * checked syntax tree names only datastores. Several processes may share the folder (WAL, busy timeout).
 */
export class SqliteStore implements CloudStore {
  private catalog: SqliteCatalog | undefined;
  private channels: SqliteChannels | undefined;
  private datastores: SqliteDatastores | undefined;
  private alertState: SqliteAlertState | undefined;
  private published: SqlitePublishedCollections | undefined;
  private checker: Database.Database | undefined;
  private queries: SqliteQueryRunner | undefined;
  /** queryRows' own processes, so a page read never waits behind a long dataset refresh. */
  private rowQueries: SqliteQueryRunner | undefined;

  constructor(private readonly dir: string, private readonly queryOptions: QueryRunnerOptions = DEFAULT_RUNNER_OPTIONS) {}

  get datastoreFile(): string {
    return join(this.dir, 'datastores.sqlite');
  }

  async open(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.catalog = new SqliteCatalog(join(this.dir, 'catalog.sqlite'), this.dir);
    this.alertState = new SqliteAlertState(this.catalog.database);
    this.published = new SqlitePublishedCollections(this.catalog.database);
    this.datastores = new SqliteDatastores(this.datastoreFile);
    adoptChannelsFile(this.datastores.database, join(this.dir, 'channels.sqlite'));
    this.channels = new SqliteChannels(this.datastores.database);
    this.checker = new Database(this.datastoreFile, { readonly: true });
    registerQueryFunctions(this.checker);
    this.queries = new SqliteQueryRunner(this.datastoreFile, this.queryOptions);
    this.rowQueries = new SqliteQueryRunner(this.datastoreFile, ROW_QUERY_OPTIONS);
  }

  async close(): Promise<void> {
    await this.queries?.stop();
    await this.rowQueries?.stop();
    this.checker?.close();
    this.datastores?.close();
    this.catalog?.close();
    this.queries = this.rowQueries = this.checker = this.datastores = this.channels = this.catalog = this.alertState = this.published = undefined;
  }

  private get c(): SqliteCatalog {
    if (!this.catalog) throw new Error('the store is not open');
    return this.catalog;
  }
  private get al(): SqliteAlertState {
    if (!this.alertState) throw new Error('the store is not open');
    return this.alertState;
  }
  private get pc(): SqlitePublishedCollections {
    if (!this.published) throw new Error('the store is not open');
    return this.published;
  }
  private get ch(): SqliteChannels {
    if (!this.channels) throw new Error('the store is not open');
    return this.channels;
  }
  private get ds(): SqliteDatastores {
    if (!this.datastores) throw new Error('the store is not open');
    return this.datastores;
  }

  async getResource<D>(type: ResourceType, name: string): Promise<ResourceRecord<D> | undefined> {
    return this.c.getResource<D>(type, name);
  }
  async listResources<D>(type: ResourceType, options: { after?: string; limit?: number } = {}): Promise<ResourceRecord<D>[]> {
    return this.c.listResources<D>(type, options.after, options.limit ?? -1);
  }
  async insertResource(record: ResourceRecord): Promise<boolean> {
    return this.c.insertResource(record);
  }
  async updateResource(type: ResourceType, name: string, definition: unknown, updatedAt: number): Promise<boolean> {
    return this.c.updateResource(type, name, definition, updatedAt);
  }
  async deleteResource(type: ResourceType, name: string): Promise<boolean> {
    return this.c.deleteResource(type, name);
  }

  async getTags(arn: string): Promise<Tag[]> {
    return this.c.getTags(arn);
  }
  async setTags(arn: string, tags: Tag[]): Promise<void> {
    this.c.setTags(arn, tags);
  }
  async removeTags(arn: string, keys: string[]): Promise<void> {
    this.c.removeTags(arn, keys);
  }
  async deleteAllTags(arn: string): Promise<void> {
    this.c.deleteAllTags(arn);
  }
  async getSetting<T>(key: string): Promise<T | undefined> {
    return this.c.getSetting<T>(key);
  }
  async putSetting(key: string, value: unknown): Promise<void> {
    this.c.putSetting(key, value);
  }

  async createChannelStorage(channel: string): Promise<void> {
    this.ch.create(channel);
  }
  async dropChannelStorage(channel: string): Promise<void> {
    this.ch.drop(channel);
  }
  async appendChannelMessages(channel: string, messages: readonly ChannelMessageIn[], arrival: number): Promise<boolean[]> {
    return this.ch.append(channel, messages, arrival);
  }
  async existingMessageIds(channel: string, messageIds: readonly string[]): Promise<Set<string>> {
    return this.ch.existing(channel, messageIds);
  }
  async commitIngest(
    channel: string,
    messages: readonly ChannelMessageIn[],
    arrival: number,
    rows: readonly { datastore: string; rows: readonly DatastoreRowIn[] }[],
  ): Promise<'committed' | 'conflict'> {
    try {
      // IMMEDIATE: take the write lock first, so two processes never deadlock upgrading a read.
      this.ds.database.transaction(() => {
        this.ch.insertAll(channel, messages, arrival);
        for (const output of rows) if (output.rows.length > 0) this.ds.insert(output.datastore, output.rows);
      }).immediate();
      return 'committed';
    } catch (error) {
      this.ds.forget();
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return 'conflict';
      throw error;
    }
  }
  async sampleChannelMessages(channel: string, options: { start?: number; end?: number; limit: number }): Promise<Buffer[]> {
    return this.ch.sample(channel, options.start, options.end, options.limit);
  }
  async readChannelMessages(channel: string, options: { start?: number; end?: number; afterSeq?: number; limit: number }): Promise<StoredMessage[]> {
    return this.ch.read(channel, options);
  }
  async channelStats(channel: string, withSize: boolean): Promise<SizeStats> {
    return this.ch.stats(channel, withSize);
  }
  async expireChannelMessages(channel: string, before: number): Promise<number> {
    return this.ch.expire(channel, before);
  }

  async createDatastoreStorage(datastore: string, indexes: DatastoreIndexes): Promise<void> {
    this.ds.create(datastore, indexes);
  }
  async dropDatastoreStorage(datastore: string): Promise<void> {
    this.ds.drop(datastore);
  }
  async insertDatastoreRows(datastore: string, rows: readonly DatastoreRowIn[]): Promise<void> {
    this.ds.insert(datastore, rows);
  }
  async datastoreStats(datastore: string, withSize: boolean): Promise<SizeStats> {
    return this.ds.stats(datastore, withSize);
  }
  async expireDatastoreRows(datastore: string, before: number): Promise<number> {
    return this.ds.expire(datastore, before);
  }
  readonly sqlDialect = SQLITE;
  async datastoreMark(datastore: string, timeAttribute: string): Promise<DatastoreMark> {
    return this.ds.mark(datastore, timeAttribute);
  }
  async arrivedKeys(datastore: string, attributes: { device: string; time: string }, since: number, limit: number): Promise<[unknown, unknown][]> {
    return this.ds.arrivedKeys(datastore, attributes, since, limit);
  }
  async checkQuery(query: TranslatedQuery): Promise<string | undefined> {
    try {
      const statement = this.checker!.prepare(query.sql);
      return statement.reader && statement.readonly ? undefined : 'the query does not read data';
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
  async cancelQueries(): Promise<void> {
    await this.queries?.stop();
    await this.rowQueries?.stop();
  }
  async runQuery(query: TranslatedQuery, outFile: string, timeoutMs: number): Promise<QueryResult> {
    if (!this.queries) throw new Error('the store is not open');
    return this.queries.run(query, outFile, timeoutMs);
  }
  async queryRows(query: TranslatedQuery, options: { timeoutMs: number; maxRows: number }): Promise<QueryRows> {
    if (!this.rowQueries) throw new Error('the store is not open');
    return this.rowQueries.rows(query, options);
  }

  async putContent(record: ContentRecord, bodyFile?: string): Promise<void> {
    this.c.putContent(record, bodyFile);
  }
  async openContentBody(datasetName: string, versionId: string): Promise<ContentBody | undefined> {
    return this.c.openContentBody(datasetName, versionId);
  }
  async getContent(datasetName: string, versionId: string): Promise<ContentRecord | undefined> {
    return this.c.getContent(datasetName, versionId);
  }
  async listContents(datasetName: string): Promise<ContentRecord[]> {
    return this.c.listContents(datasetName);
  }
  async deleteContent(datasetName: string, versionId: string): Promise<void> {
    this.c.deleteContent(datasetName, versionId);
  }
  async putReprocessing(record: ReprocessingRecord): Promise<void> {
    this.c.putReprocessing(record);
  }
  async listReprocessings(pipelineName: string): Promise<ReprocessingRecord[]> {
    return this.c.listReprocessings(pipelineName);
  }
  async claimLease(key: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    return this.c.claimLease(key, holder, ttlMs, now);
  }
  async releaseLease(key: string, holder: string): Promise<void> {
    this.c.releaseLease(key, holder);
  }
  async claimOnce(key: string, now: number): Promise<boolean> {
    return this.c.claimOnce(key, now);
  }
  async putThing(thing: ThingRecord): Promise<void> {
    this.c.putThing(thing);
  }
  async listThings(): Promise<ThingRecord[]> {
    return this.c.listThings();
  }
  async putShadow(shadow: ShadowRecord): Promise<void> {
    this.c.putShadow(shadow);
  }
  async listShadows(): Promise<ShadowRecord[]> {
    return this.c.listShadows();
  }

  async secret(name: string, candidate: string): Promise<string> {
    return storedSecret(this.c.database, name, candidate, Date.now());
  }

  async getAlertStationState(stationId: string): Promise<unknown> {
    return this.al.stationState(stationId);
  }
  async commitAlertState(stationId: string, state: unknown, alerts: readonly StoredAlert[], outbox: readonly AlertOutboxEntry[], now: number): Promise<void> {
    this.al.commit(stationId, state, alerts, outbox, now);
  }
  async listAlerts(stationId: string, endedSince?: number): Promise<unknown[]> {
    return this.al.alerts(stationId, endedSince);
  }
  async dueAlertDeliveries(now: number, destinations: readonly string[]): Promise<AlertOutboxRow[]> {
    return this.al.due(now, destinations);
  }
  async nextAlertDue(destinations: readonly string[]): Promise<number | undefined> {
    return this.al.nextDue(destinations);
  }
  async alertDeliveriesDueNow(destination: string, now: number): Promise<void> {
    this.al.dueNow(destination, now);
  }
  async alertDelivered(seq: number, now: number): Promise<void> {
    this.al.delivered(seq, now);
  }
  async alertDeliveryFailed(seq: number, reason: string, now: number): Promise<void> {
    this.al.failed(seq, reason, now);
  }
  async alertDeliveryRetry(seq: number, nextAt: number, error: string): Promise<void> {
    this.al.retryAt(seq, nextAt, error);
  }
  async alertOutboxCounts(): Promise<{ pending: number; delivered: number; failed: number }> {
    return this.al.counts();
  }
  async pruneAlertOutbox(before: number): Promise<void> {
    this.al.prune(before);
  }
  async importAlertState(snapshot: AlertStateSnapshot): Promise<void> {
    this.al.import(snapshot);
  }

  async putPublishedCollection(record: PublishedCollectionRecord, bundleFile: string, options: { keepVersions: number }): Promise<PublishOutcome> {
    return this.pc.put(record, bundleFile, options.keepVersions);
  }
  async listPublishedCollections(): Promise<PublishedCollectionRecord[]> {
    return this.pc.latestOfEach();
  }
  async listPublishedVersions(name: string): Promise<PublishedCollectionRecord[]> {
    return this.pc.versions(name);
  }
  async publishedCollection(name: string, version?: number): Promise<PublishedCollectionRecord | undefined> {
    return this.pc.get(name, version);
  }
  async openPublishedBundle(name: string, version: number): Promise<ContentBody | undefined> {
    return this.pc.openBundle(name, version);
  }
  async deletePublishedCollection(name: string): Promise<number> {
    return this.pc.delete(name);
  }
}
