import type { Engine } from '../engine/engine.ts';
import type { AlertEvent } from './alert-model.ts';
import type { AlertOutput, DeliveryResult } from './alert-output.ts';

/**
 * Every alert event, history included, into the alerts channel through the engine's own BatchPutMessage,
 * so it flows channel -> alerts_pipeline -> alerts_datastore -> the weather_alerts dataset like any
 * device message. The eventId is the messageId: the channel drops a repeat, so at-least-once delivery
 * leaves exactly one row per event.
 */

/** One flat record per event; attribute names are valid IoT Analytics attribute names. */
export function alertRecord(event: AlertEvent): Record<string, string | number | null> {
  const a = event.alert;
  return {
    event_id: event.eventId,
    event: event.type,
    ts: event.at,
    alert_id: a.id,
    device_id: a.stationId,
    kind: a.kind,
    started_at: a.startedAt,
    ended_at: a.endedAt,
    value: a.value,
    threshold: a.threshold,
    worst: a.worst,
    measure: a.measure,
    headline: event.headline,
    detail: event.detail,
  };
}

export class DatasetOutput implements AlertOutput {
  readonly name = 'dataset';

  constructor(
    private readonly engine: Pick<Engine, 'batchPutMessage'>,
    private readonly channelName: string,
  ) {}

  wants(): boolean {
    return true;
  }

  async deliver(event: AlertEvent): Promise<DeliveryResult> {
    try {
      const result = await this.engine.batchPutMessage({
        channelName: this.channelName,
        messages: [{ messageId: event.eventId, payload: Buffer.from(JSON.stringify(alertRecord(event))) }],
      });
      const refused = result.batchPutMessageErrorEntries?.[0];
      if (refused) return { ok: false, permanent: true, reason: `${refused.errorCode}: ${refused.errorMessage}` };
      return { ok: true };
    } catch (error) {
      // The channel missing or the engine stopping: both can change, so retry.
      return { ok: false, permanent: false, reason: error instanceof Error ? error.message : String(error) };
    }
  }
}
