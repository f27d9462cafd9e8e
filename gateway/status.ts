import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { OutboxStats } from './outbox.ts';
import { Outbox } from './outbox.ts';
import type { Logger } from 'pino';
import type { ConnectionState, DeviceStatus as UplinkStatus } from '../hardware/core/contract.ts';

/** The retained status payload's shape lives in the wire contract (hardware/core/contract.ts). */
export type { ConnectionState, DeviceStatus as UplinkStatus } from '../hardware/core/contract.ts';

export interface StatusParts {
  thing: string;
  state: ConnectionState;
  since: number;
  client: string;
  protocol: string | null;
  broker: string;
  lastError: string | null;
}

export function buildStatus(parts: StatusParts, stats: OutboxStats, now: number): UplinkStatus {
  return {
    ...parts,
    ts: now,
    depth: stats.depth,
    bytes: stats.bytes,
    oldestAgeMs: stats.oldestAgeMs,
    sentRecords: stats.sentRecords,
    sentEnvelopes: stats.sentEnvelopes,
    droppedRecords: stats.droppedRecords,
    retriedEnvelopes: stats.retriedEnvelopes,
  };
}

/** The broker URL without credentials, fit for a status message. */
export function publicBrokerUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** Beside the outbox, so `hedgerow status` finds the uplink's state from another process. */
export function statusFilePath(outboxPath: string): string {
  return `${outboxPath}.status.json`;
}

/** Writes atomically (rename), so a reader never sees half a file. */
export function writeStatusFile(outboxPath: string, status: UplinkStatus, log: Logger): void {
  const path = statusFilePath(outboxPath);
  try {
    writeFileSync(`${path}.tmp`, `${JSON.stringify(status, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  } catch (error) {
    log.warn({ err: error }, `could not write the uplink status to ${path}`);
  }
}

export interface StatusReport {
  outboxPath: string;
  /** Live figures read from the outbox file now. */
  outbox: OutboxStats;
  /** The uplink's last written status, or null if no uplink has run on this outbox. */
  uplink: UplinkStatus | null;
}

/** For `hedgerow status`: the outbox's figures now (opened read-only) and the uplink's last state. */
export function readStatus(outboxPath: string, log: Logger, now: () => number = Date.now): StatusReport {
  if (!existsSync(outboxPath)) {
    throw new Error(`no outbox at ${outboxPath}: check outbox.path and dataDir, or start the station first`);
  }
  const outbox = Outbox.open({ path: outboxPath, log, readonly: true, now });
  try {
    const file = statusFilePath(outboxPath);
    const uplink = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as UplinkStatus) : null;
    return { outboxPath, outbox: outbox.stats(), uplink };
  } finally {
    outbox.close();
  }
}

/** Human lines for `hedgerow status`. */
export function formatStatus(report: StatusReport, now: number = Date.now()): string[] {
  const { outbox, uplink } = report;
  const age = outbox.oldestAgeMs === null ? 'empty' : `oldest ${Math.round(outbox.oldestAgeMs / 1000)} s old`;
  const lines = [
    `outbox ${report.outboxPath}: ${outbox.depth} records queued (${outbox.bytes} bytes, ${age})`,
    `sent ${outbox.sentRecords} records in ${outbox.sentEnvelopes} envelopes, dropped ${outbox.droppedRecords}, retried ${outbox.retriedEnvelopes} envelopes`,
  ];
  if (uplink === null) lines.push('uplink: has not run on this outbox');
  else {
    const since = Math.round((now - uplink.since) / 1000);
    lines.push(
      `uplink: ${uplink.state} for ${since} s to ${uplink.broker} (${uplink.client}${uplink.protocol ? `, ${uplink.protocol}` : ''})` +
        (uplink.lastError ? `; last error: ${uplink.lastError}` : ''),
    );
  }
  return lines;
}
