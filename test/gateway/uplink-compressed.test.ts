import { inflateSync } from 'node:zlib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { weekOfRecords } from '../../bin/demo-backfill.ts';
import { compressedMessages } from '../../gateway/envelope-compression.ts';
import { COMPRESSED_ENVELOPE, compressedTopic, topics, type Envelope } from '../../hardware/core/contract.ts';
import { VirtualWeather } from '../../hardware/virtual-weather.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { openTestOutbox, startUplink, tempDir, testUplinkSettings } from './helpers/gateway-harness.ts';
import { until } from '../cloud/fixtures/until.ts';

/** Issue 12: `uplink.compression: deflate` sends the same envelopes zlib-compressed on dtz/..., and only there. */

const NOW = Date.UTC(2026, 11, 7, 12);
const week = weekOfRecords(new VirtualWeather('station-1'), NOW);
const inflate = (payload: Buffer) => JSON.parse(inflateSync(payload).toString()) as Envelope<Record<string, unknown>>;

describe('compressed envelopes: the station side', () => {
  it('splits an envelope that does not deflate under the limit into parts with derived ids, the same way every time', () => {
    const body = week.slice(0, 400).map((record) => JSON.stringify(record)).join(',');
    const envelope = { messageId: 'm-1', deviceId: 'station-1', seq: 50, topic: topics.weatherReading('station-1'), body };
    const whole = compressedMessages(envelope, NOW, 128_000);
    expect(whole).toHaveLength(1);
    expect(inflate(whole[0]!.payload)).toEqual({ messageId: 'm-1', deviceId: 'station-1', seq: 50, sentAt: NOW, records: week.slice(0, 400) });

    const parts = compressedMessages(envelope, NOW, 4_000);
    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) {
      expect(part.topic).toBe('dtz/weather/station-1/reading');
      expect(part.payload.length).toBeLessThanOrEqual(4_000);
    }
    const inflated = parts.map((part) => inflate(part.payload));
    expect(inflated.flatMap((e) => e.records)).toEqual(week.slice(0, 400));
    // Part k starts at record offset k: its seq and its messageId say so, so a retry's parts carry the same ids.
    let offset = 0;
    for (const e of inflated) {
      expect(e.messageId).toBe(offset === 0 ? 'm-1' : `m-1+${offset}`);
      expect(e.seq).toBe(50 + offset);
      offset += e.records.length;
    }
    expect(compressedMessages(envelope, NOW, 4_000)).toEqual(parts);
  });

  describe('through mosquitto', () => {
    let broker: Mosquitto;
    const temp = tempDir();
    beforeAll(async () => {
      broker = await Mosquitto.start();
    });
    afterAll(async () => {
      await broker?.stop();
      temp.remove();
    });

    it('drains a week of 5-minute readings compressed on dtz/ only, record for record, in far fewer bytes', async () => {
      const seen: { topic: string; payload: Buffer }[] = [];
      const watcher = await mqtt.connectAsync(broker.url, { clientId: `watch-${process.pid}` });
      watcher.on('message', (topic, payload) => seen.push({ topic, payload }));
      await watcher.subscribeAsync(['dt/#', `${COMPRESSED_ENVELOPE.topicRoot}/#`], { qos: 1 });
      const outbox = openTestOutbox(temp.dir);
      outbox.append(week.map((record) => ({ deviceId: 'station-1', topic: topics.weatherReading('station-1'), record })));
      const settings = testUplinkSettings({ url: broker.url, compression: 'deflate', maxRecordsPerEnvelope: 10_000 });
      const service = startUplink(outbox, settings);
      try {
        await until(() => outbox.depth() === 0, 'the week drained');
        const zipped = () => seen.filter((m) => m.topic === compressedTopic(topics.weatherReading('station-1')));
        await until(() => zipped().flatMap((m) => inflate(m.payload).records).length >= week.length, 'every record at the watcher');
        expect(zipped().flatMap((m) => inflate(m.payload).records)).toEqual(week);
        // Nothing on the plain reading topic; the status stays plain JSON on dt/.../status.
        expect(seen.filter((m) => m.topic === topics.weatherReading('station-1'))).toEqual([]);
        expect(seen.some((m) => m.topic === topics.status('weather', 'station-1'))).toBe(true);
        const wire = zipped().reduce((sum, m) => sum + m.payload.length, 0);
        const json = week.reduce((sum, record) => sum + Buffer.byteLength(JSON.stringify(record)), 0);
        expect(wire * 5).toBeLessThan(json);
        for (const m of zipped()) expect(m.payload.length).toBeLessThanOrEqual(settings.maxEnvelopeBytes);
      } finally {
        await service.stop();
        outbox.close();
        await watcher.endAsync();
      }
    });
  });
});
