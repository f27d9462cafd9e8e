/**
 * The reader process's watchdog on pcscd + vpcd: pcsclite calls that never return, a reader process
 * that freezes or dies, and `hedgerow box` stopped while its reader process is wedged. Called from
 * nfc-reader.test.ts, which owns the one pcscd (its socket is fixed), like i2c-bus.conformance.ts.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { parseSettings } from '../../hardware/core/config-file.ts';
import type { ProcessNfcReader, ProcessNfcReaderOptions } from '../../hardware/nfc-process-reader.ts';
import type { TagInfo } from '../../hardware/nfc-types.ts';
import { hardwareSettings, stationSettings } from '../../device/settings.ts';
import { openStationHardware } from '../../device/station-hardware.ts';
import { WeatherStation } from '../../device/weather-station.ts';
import { writeWav } from '../fixtures/audio-files.ts';
import { captureLog } from '../fixtures/captured-log.ts';
import { alive, nextEvent } from '../fixtures/next-event.ts';
import { MemorySink } from '../fixtures/record-sink.ts';
import { VirtualTag } from '../fixtures/virtual-tag.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const quiet = pino({ level: 'silent' });
const stationSchema = z.object({ station: stationSettings.prefault({}), hardware: hardwareSettings.prefault({}) });
const WAIT = { timeout: 10_000 };

export interface HangRig {
  /** vpcd's port for the first slot, once pcscd runs. */
  port(): number;
  /** The first slot's reader name. */
  slot0: string;
  /** A scratch folder. */
  dir(): string;
  /** Starts a reader the rig's afterAll kills if a test leaves it. */
  processReader(options: ProcessNfcReaderOptions): ProcessNfcReader;
}

export function describeReaderHangs(rig: HangRig): void {
  const SLOT0 = rig.slot0;
  const processReader = (options: ProcessNfcReaderOptions) => rig.processReader(options);
  describe('a pcsclite call that never returns: the reader process is killed and started again', () => {
    /** Short enough for a test, long enough that a healthy vpcd call on a loaded machine never reaches it. */
    const DEADLINE_MS = 3000;
    const RECOVERY = { timeout: 25_000 };

    async function weatherStation() {
      const settings = parseSettings(stationSchema, { station: { id: 'beside-the-box', build: 'bme280' }, hardware: { mode: 'virtual' } }, 'test');
      const hardware = await openStationHardware({ ...settings, log: quiet });
      const sink = new MemorySink();
      const station = new WeatherStation({ stationId: 'beside-the-box', intervalMs: 200, sensors: hardware.sensors, sink, log: quiet });
      await station.start();
      return { sink, close: async () => (await station.stop(), await hardware.close()) };
    }

    /** Counts event-loop turns: a blocked main thread would leave it still. */
    function loopTurns() {
      const turns = { count: 0 };
      const timer = setInterval(() => turns.count++, 50);
      return { turns, stop: () => clearInterval(timer) };
    }

    async function recovers(reader: ProcessNfcReader, uid: string): Promise<void> {
      const good = new VirtualTag({ port: rig.port(), uid });
      const tapped = nextEvent<TagInfo>(reader, 'tag', (tag) => tag.uid === uid, RECOVERY.timeout);
      // A tag that is there before the new reader process attaches is read then; placed later, at the next poll.
      await good.place();
      expect((await tapped).uid).toBe(uid);
      await good.remove();
    }

    it('a tag that answers the ATR but never its UID: the station keeps recording, the reader restarts, the next tap is read', { timeout: 60_000 }, async () => {
      const captured = captureLog();
      const station = await weatherStation();
      const loop = loopTurns();
      const reader = processReader({ log: captured.log, commandDeadlineMs: DEADLINE_MS, restartDelaysMs: [200] });
      const bad = new VirtualTag({ port: rig.port(), uid: '04deadbeef0001', answers: 'atr-only' });
      try {
        const attached = nextEvent<string>(reader, 'attached', (name) => name === SLOT0, RECOVERY.timeout);
        await reader.start();
        await attached;
        const firstPid = reader.pid!;
        await bad.place();
        await vi.waitFor(() => expect(bad.apdus.map((a) => a.toString('hex'))).toContain('ffca000000'), WAIT);
        const records = station.sink.records.length;
        const turns = loop.turns.count;
        await vi.waitFor(
          () =>
            expect(captured.problems()).toContain(
              `NFC reader stopped answering (SCardTransmit hung for 3 s, UID read on ${SLOT0}): restarting the reader process; tags tapped meanwhile are missed`,
            ),
          RECOVERY,
        );
        // While the call hung, this process went on: the station wrote records and the event loop turned.
        expect(station.sink.records.length).toBeGreaterThan(records);
        expect(loop.turns.count).toBeGreaterThan(turns);
        await vi.waitFor(() => expect(alive(firstPid)).toBe(false), WAIT);
        await vi.waitFor(() => expect(reader.restarts).toBeGreaterThanOrEqual(1), RECOVERY);
        await bad.remove();
        await recovers(reader, '04600d00000001');
        expect(reader.pid).not.toBe(firstPid);
      } finally {
        loop.stop();
        await bad.remove();
        await reader.stop();
        await station.close();
      }
    });

    it('an ACR122U whose tag answers nothing: the buzzer SCardControl hangs, the reader restarts, the next tap is read', { timeout: 60_000 }, async () => {
      const captured = captureLog();
      const loop = loopTurns();
      const silent = new VirtualTag({ port: rig.port(), uid: '04deadbeef0002', answers: 'nothing' });
      // On the reader before it attaches: the buzzer-off escape command goes to the silent tag.
      await silent.place();
      const reader = processReader({ log: captured.log, commandDeadlineMs: DEADLINE_MS, restartDelaysMs: [200] });
      try {
        await reader.start();
        const turns = loop.turns.count;
        await vi.waitFor(
          () => expect(captured.problems()).toContainEqual(expect.stringContaining(`(SCardControl hung for 3 s, buzzer control on ${SLOT0}): restarting the reader process`)),
          RECOVERY,
        );
        expect(loop.turns.count).toBeGreaterThan(turns);
        await vi.waitFor(() => expect(reader.restarts).toBeGreaterThanOrEqual(1), RECOVERY);
        await silent.remove();
        await recovers(reader, '04600d00000002');
      } finally {
        loop.stop();
        await silent.remove();
        await reader.stop();
      }
    });

    it('a reader process that stops sending heartbeats (here: SIGSTOP) is killed and started again', { timeout: 60_000 }, async () => {
      const captured = captureLog();
      const reader = processReader({ log: captured.log, heartbeatMs: 200, heartbeatTimeoutMs: 2000, restartDelaysMs: [200] });
      try {
        const attached = nextEvent<string>(reader, 'attached', (name) => name === SLOT0, RECOVERY.timeout);
        await reader.start();
        await attached;
        const frozen = reader.pid!;
        process.kill(frozen, 'SIGSTOP');
        await vi.waitFor(() => expect(captured.problems()).toContain('NFC reader stopped answering (no heartbeat for 2 s): restarting the reader process; tags tapped meanwhile are missed'), RECOVERY);
        await vi.waitFor(() => expect(alive(frozen)).toBe(false), WAIT);
        await recovers(reader, '04600d00000003');
        expect(reader.restarts).toBe(1);
      } finally {
        await reader.stop();
      }
    });

    it('a reader process that dies is started again, and says how it ended', { timeout: 60_000 }, async () => {
      const captured = captureLog();
      const reader = processReader({ log: captured.log, restartDelaysMs: [200] });
      try {
        const attached = nextEvent<string>(reader, 'attached', (name) => name === SLOT0, RECOVERY.timeout);
        await reader.start();
        await attached;
        const detached = nextEvent<string>(reader, 'detached', (name) => name === SLOT0, RECOVERY.timeout);
        process.kill(reader.pid!, 'SIGKILL');
        await detached;
        expect(captured.problems()).toContainEqual(expect.stringContaining('NFC: the reader process ended (SIGKILL); restarting it'));
        await recovers(reader, '04600d00000004');
        expect(reader.restarts).toBe(1);
      } finally {
        await reader.stop();
      }
    });

    it('stop() kills a reader process wedged in a call instead of waiting for it', { timeout: 60_000 }, async () => {
      const captured = captureLog();
      const reader = processReader({ log: captured.log, commandDeadlineMs: 120_000 });
      const bad = new VirtualTag({ port: rig.port(), uid: '04deadbeef0003', answers: 'atr-only' });
      try {
        const attached = nextEvent<string>(reader, 'attached', (name) => name === SLOT0, RECOVERY.timeout);
        await reader.start();
        await attached;
        const pid = reader.pid!;
        await bad.place();
        await vi.waitFor(() => expect(bad.apdus.map((a) => a.toString('hex'))).toContain('ffca000000'), WAIT);
        await reader.stop();
        expect(alive(pid)).toBe(false);
        expect(captured.problems()).toContainEqual(expect.stringContaining('the reader process did not close its reader within 2 s (a pcsclite call hangs); killed it'));
      } finally {
        await bad.remove();
      }
    });
  });

  describe('hedgerow box on SIGINT while its reader process is wedged', () => {
    /** The hard limit for the box to exit; systemd would SIGKILL after 20 s. */
    const EXIT_LIMIT_MS = 15_000;

    it('exits promptly, killing the reader process', { timeout: 120_000 }, async () => {
      const folder = join(rig.dir(), 'collections', 'sigint');
      mkdirSync(folder, { recursive: true });
      writeWav(join(folder, 'bell.wav'));
      writeFileSync(join(folder, 'manifest.yaml'), 'objects:\n  - { uid: "04000000000e01", title: Bell, audio: bell.wav }\n');
      const config = join(rig.dir(), 'sigint-box.yaml');
      writeFileSync(
        config,
        JSON.stringify({
          dataDir: join(rig.dir(), 'sigint-data'),
          museum: { boxId: 'sigint-box', collection: folder, demo: false, reader: { mode: 'real', commandDeadline: '10m' }, audio: { mode: 'virtual' } },
        }),
      );
      const box = spawn(process.execPath, [join(ROOT, 'bin/hedgerow.js'), '--config', config, '--log-format', 'json', 'box', '--no-uplink'], {
        cwd: rig.dir(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      box.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      box.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => box.once('exit', (code, signal) => resolve({ code, signal })));
      // The hard timeout: whatever happens, this test does not leave the box running.
      const killer = setTimeout(() => box.kill('SIGKILL'), 110_000);
      const bad = new VirtualTag({ port: rig.port(), uid: '04deadbeef0004', answers: 'atr-only' });
      try {
        // The first run may build dist/ first.
        const early = exited.then(({ code, signal }) => {
          throw new Error(`the box exited (${signal ?? code}) before its reader attached:\n${output.slice(-3000)}`);
        });
        await Promise.race([vi.waitFor(() => expect(output).toContain(`NFC reader attached: ${SLOT0}`), { timeout: 90_000, interval: 200 }), early]);
        early.catch(() => undefined);
        const children = childrenOf(box.pid!);
        expect(children.length).toBeGreaterThan(0);
        await bad.place();
        await vi.waitFor(() => expect(bad.apdus.map((a) => a.toString('hex'))).toContain('ffca000000'), WAIT);
        box.kill('SIGINT');
        const limit = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), EXIT_LIMIT_MS));
        const result = await Promise.race([exited, limit]);
        expect(result, `the box did not exit within ${EXIT_LIMIT_MS / 1000} s of SIGINT:\n${output.slice(-3000)}`).toEqual({ code: 0, signal: null });
        expect(output).toContain('stopping');
        expect(output).toContain('did not close its reader within 2 s (a pcsclite call hangs); killed it');
        for (const pid of children) expect(alive(pid)).toBe(false);
      } finally {
        clearTimeout(killer);
        box.kill('SIGKILL');
        await bad.remove();
      }
    });
  });
}

/** The pids of a process's children, from /proc. */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text ? text.split(/\s+/).map(Number) : [];
}
