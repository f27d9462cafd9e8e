import type { CloudStore } from '../storage/cloud-store.ts';
import { alertSchema, type Alert } from './alert-model.ts';

/** The page's read-only view of the alerts: a station's active alerts and those ended since a time. */
export interface AlertHistory {
  /** Active alerts and those that ended at or after `since`, oldest first. */
  recent(stationId: string, since: number): Promise<Alert[]>;
  close(): Promise<void>;
}

/** Reads the alerts the alert engine keeps in the engine's store (any engine's, when several share it). */
export class StoreAlertHistory implements AlertHistory {
  constructor(private readonly store: Pick<CloudStore, 'listAlerts'>) {}

  async recent(stationId: string, since: number): Promise<Alert[]> {
    return (await this.store.listAlerts(stationId, since)).map((a) => alertSchema.parse(a));
  }

  /** The store is the engine's, closed with it. */
  async close(): Promise<void> {}
}
