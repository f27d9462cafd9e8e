import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller } from '../../hardware/core/controller.ts';
import { createGatewayExtensions } from '../../gateway/gateway.ts';
import { gatewaySettings } from '../../gateway/settings.ts';
import { formatStatus, readStatus } from '../../gateway/status.ts';
import { printStatus } from '../../gateway/commands.ts';
import { Outbox } from '../../gateway/outbox.ts';
import { freePort } from './helpers/mosquitto.ts';
import { Collector } from './helpers/subscriber.ts';
import { recordingLog, silent, tempDir, weatherBatch } from './helpers/gateway-harness.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('createGatewayExtensions', () => {
  it('runs outbox, embedded broker and uplink; a station process appends; hedgerow status reads it', async () => {
    const temp = tempDir();
    cleanups.push(temp.remove);
    // A damaged outbox left by a power cut: the gateway quarantines it and carries on.
    writeFileSync(join(temp.dir, 'outbox.db'), 'this is not a database '.repeat(200));
    const port = await freePort();
    const settings = gatewaySettings.parse({
      broker: { port },
      uplink: { url: `mqtt://127.0.0.1:${port}`, reconnectMin: '50ms', reconnectMax: '200ms', pollInterval: '50ms' },
    });
    const { log, lines } = recordingLog();
    const extensions = createGatewayExtensions(settings, { log, dataDir: temp.dir, thing: 'station-7' });
    expect(extensions.map((extension) => extension.name)).toEqual(['outbox', 'broker', 'uplink']);
    const controller = new Controller(extensions, silent);
    await controller.start();
    cleanups.push(() => controller.stop());
    expect(readdirSync(temp.dir).some((name) => name.startsWith('outbox.db.corrupt-'))).toBe(true);
    expect(lines().join('\n')).toMatch(/is damaged .* moved it to /);

    const collector = await Collector.start(`mqtt://127.0.0.1:${port}`, 'dt/#', { protocolVersion: 4 });
    cleanups.push(() => collector.stop());
    const path = join(temp.dir, 'outbox.db');
    const station = Outbox.open({ path, log: silent });
    cleanups.push(() => station.close());
    station.append(weatherBatch('station-7', 0, 12));
    await collector.until(() => collector.records().length === 12);
    await collector.until(() => station.stats().depth === 0);

    const report = readStatus(path, silent);
    expect(report.outbox).toMatchObject({ depth: 0, sentRecords: 12 });
    expect(report.uplink).toMatchObject({ thing: 'station-7', state: 'online', client: 'mqtt.js', protocol: 'MQTT 3.1.1' });
    const text = formatStatus(report).join('\n');
    expect(text).toContain('0 records queued');
    expect(text).toContain('sent 12 records');
    expect(text).toMatch(/uplink: online .* mqtt:\/\/127\.0\.0\.1/);
    await controller.stop();
    expect(readStatus(path, silent).uplink?.state).toBe('stopped');
  });

  it('tells the operator what to do when there is no outbox yet', () => {
    expect(() => readStatus('/nonexistent/outbox.db', silent)).toThrow(/no outbox at .* start the station first/);
  });
});

describe('CLI entry points', () => {
  it('printStatus writes the figures and exits 0, or says what to do and exits 1', () => {
    const temp = tempDir();
    cleanups.push(temp.remove);
    const path = join(temp.dir, 'outbox.db');
    const outbox = Outbox.open({ path, log: silent });
    outbox.append(weatherBatch('station-9', 0, 4));
    outbox.close();
    const lines: string[] = [];
    expect(printStatus(path, silent, (line) => lines.push(line))).toBe(0);
    expect(lines.join('\n')).toMatch(/4 records queued[\s\S]*uplink: has not run on this outbox/);
    const missing: string[] = [];
    expect(printStatus(join(temp.dir, 'none.db'), silent, (line) => missing.push(line))).toBe(1);
    expect(missing[0]).toMatch(/start the station first/);
  });

});
