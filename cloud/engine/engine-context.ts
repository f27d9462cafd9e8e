import type { Logger } from 'pino';
import type { Clock } from '../../hardware/core/clock.ts';
import type { ContentUrlBuilder } from './engine.ts';
import type { EngineMetrics } from './engine-metrics.ts';
import { InvalidRequestException } from './errors.ts';
import type { CloudSettings } from '../settings.ts';
import type { CloudStore, ResourceType, SizeStats } from '../storage/cloud-store.ts';

/**
 * The one context every engine part gets: settings, log, store, and the injectable clock (with its timers) and
 * id generator that let tests fake time instead of sleeping.
 */

/** The engine's view of the one clock (hardware/core/clock.ts): the time, and one-shot timers. */
export type EngineClock = Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>;

export interface EngineContext {
  settings: CloudSettings;
  log: Logger;
  store: CloudStore;
  clock: EngineClock;
  newId: () => string;
  contentUrl: ContentUrlBuilder;
  /** Prometheus counters (GET /metrics). */
  metrics: EngineMetrics;
}

const ARN_TYPES: Readonly<Record<ResourceType, string>> = {
  channel: 'channel',
  pipeline: 'pipeline',
  datastore: 'datastore',
  dataset: 'dataset',
  rule: 'rule',
};

export function arnOf(settings: CloudSettings, type: ResourceType, name: string): string {
  const service = type === 'rule' ? 'iot' : 'iotanalytics';
  return `arn:aws:${service}:${settings.region}:${settings.accountId}:${ARN_TYPES[type]}/${name}`;
}

const ARN = /^arn:aws:(iotanalytics|iot):([a-z0-9-]+):(\d{12}):(channel|pipeline|datastore|dataset|rule)\/([a-zA-Z0-9_]{1,128})$/;

/** The resource an ARN names; InvalidRequestException for anything that is not one of ours. */
export function parseArn(arn: unknown): { type: ResourceType; name: string } {
  const match = typeof arn === 'string' ? ARN.exec(arn) : null;
  if (!match) {
    throw new InvalidRequestException(`resourceArn ${JSON.stringify(arn)} is not a channel, pipeline, datastore or dataset ARN (arn:aws:iotanalytics:REGION:ACCOUNT:channel/NAME).`);
  }
  return { type: match[4] as ResourceType, name: match[5]! };
}

export const MS_PER_DAY = 86_400_000;

/** The cut-off before which data has expired, or undefined when kept forever. */
export function retentionCutoff(now: number, retention: { unlimited?: boolean; numberOfDays?: number } | undefined): number | undefined {
  if (!retention || retention.unlimited || retention.numberOfDays === undefined) return undefined;
  return now - retention.numberOfDays * MS_PER_DAY;
}

/** The lastMessageArrivalTime field of a describe or list answer, present once data has arrived. */
export function arrivalField(stats: SizeStats): { lastMessageArrivalTime?: Date } {
  return stats.lastArrival === undefined ? {} : { lastMessageArrivalTime: new Date(stats.lastArrival) };
}

/** What channel and datastore descriptions and list summaries share: always ACTIVE, the times, the last arrival. */
export function storageFields(record: { createdAt: number; updatedAt: number }, stats: SizeStats) {
  return { status: 'ACTIVE' as const, creationTime: new Date(record.createdAt), lastUpdateTime: new Date(record.updatedAt), ...arrivalField(stats) };
}

/** The statistics block of DescribeChannel / DescribeDatastore when includeStatistics was asked for. */
export function statisticsField(stats: SizeStats, include: boolean | undefined, now: number) {
  return include ? { statistics: { size: { estimatedSizeInBytes: stats.sizeBytes, estimatedOn: new Date(now) } } } : {};
}
