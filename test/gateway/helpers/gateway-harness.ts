// Builds an outbox in a temp dir and an uplink service on it, for the integration tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import { Outbox } from '../../../gateway/outbox.ts';
import type { OutboxOptions } from '../../../gateway/outbox.ts';
import { uplinkSettings } from '../../../gateway/settings.ts';
import type { UplinkSettings } from '../../../gateway/settings.ts';
import { UplinkService } from '../../../gateway/uplink-service.ts';
import { MqttConnector } from '../../../gateway/mqtt-uplink.ts';
import type { UplinkConnector } from '../../../gateway/uplink.ts';
import type { OutgoingRecord } from '../../../hardware/core/contract.ts';

export const silent = pino({ level: 'silent' });

/** A logger that keeps its lines, to assert on what an operator would read. */
export function recordingLog(): { log: Logger; lines: () => string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push((JSON.parse(line) as { msg: string }).msg) });
  return { log, lines: () => lines };
}

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-gw-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function openTestOutbox(dir: string, options: Partial<OutboxOptions> = {}): Outbox {
  return Outbox.open({ path: join(dir, 'outbox.db'), log: silent, ...options });
}

export function weatherBatch(deviceId: string, from: number, count: number): OutgoingRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    deviceId,
    topic: `dt/weather/${deviceId}/reading`,
    record: { ts: 1_700_000_000_000 + (from + i) * 1000, n: from + i, ambient_temperature: 12.5, humidity: 80 },
  }));
}

export function testUplinkSettings(raw: Record<string, unknown>): UplinkSettings {
  return uplinkSettings.parse({ reconnectMin: '50ms', reconnectMax: '500ms', pollInterval: '50ms', ...raw });
}

export function startUplink(
  outbox: Outbox,
  settings: UplinkSettings,
  options: { connector?: UplinkConnector; log?: Logger; thing?: string } = {},
): UplinkService {
  const log = options.log ?? silent;
  const thing = options.thing ?? 'station-1';
  const service = new UplinkService({
    outbox: () => outbox,
    connector: options.connector ?? new MqttConnector({ settings, clientId: `test-${thing}-${process.pid}`, log }),
    settings,
    thing,
    log,
  });
  void service.start();
  return service;
}
