import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ds18b20, parseW1Slave } from '../../hardware/ds18b20.ts';
import { SensorError } from '../../hardware/sensor-error.ts';

const GOOD = '72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n';
const BAD_CRC = '72 01 4b 46 7f ff 0e 10 57 : crc=12 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n';
const POWER_ON = '50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n';
const NEGATIVE = '5e ff 4b 46 7f ff 02 10 e0 : crc=e0 YES\n5e ff 4b 46 7f ff 02 10 e0 t=-10125\n';

describe('parseW1Slave', () => {
  it('reads t= as milli-°C when line 1 ends in YES', () => {
    expect(parseW1Slave(GOOD)).toEqual({ ok: true, milliC: 23125 });
    expect(parseW1Slave(NEGATIVE)).toEqual({ ok: true, milliC: -10125 });
  });

  it('rejects a CRC failure (NO)', () => {
    expect(parseW1Slave(BAD_CRC)).toEqual({ ok: false, reason: 'CRC check failed (NO)' });
  });

  it('rejects the power-on value 85 °C', () => {
    expect(parseW1Slave(POWER_ON)).toMatchObject({ ok: false, reason: expect.stringContaining('power-on') });
  });

  it('rejects garbage, a missing line, all-zero bytes and out-of-range values', () => {
    expect(parseW1Slave('')).toMatchObject({ ok: false });
    expect(parseW1Slave('72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n')).toMatchObject({ ok: false });
    expect(parseW1Slave('hello\nworld t=1000')).toMatchObject({ ok: false });
    const zeros = '00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n';
    expect(parseW1Slave(zeros)).toMatchObject({ ok: false, reason: expect.stringContaining('all zeros') });
    expect(parseW1Slave(GOOD.replace('t=23125', 't=127000'))).toMatchObject({ ok: false, reason: expect.stringContaining('outside') });
  });
});

describe('Ds18b20', () => {
  let root: string;
  const device = '28-0000075a1b2c';
  const sleeps: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    sleeps.push(ms);
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hedgerow-w1-'));
    sleeps.length = 0;
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function writeSlave(id: string, text: string): Promise<void> {
    await mkdir(join(root, id), { recursive: true });
    await writeFile(join(root, id, 'w1_slave'), text);
  }

  async function readError(probe: Ds18b20): Promise<SensorError> {
    const error = await probe.read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SensorError);
    return error as SensorError;
  }

  it('reads the first 28-* device in °C, ignoring the bus master', async () => {
    await mkdir(join(root, 'w1_bus_master1'));
    await writeSlave(device, GOOD);
    await writeSlave('28-ffff00000000', NEGATIVE);
    const probe = new Ds18b20({ root, sleep });
    expect(await probe.findDevices()).toEqual([device, '28-ffff00000000']);
    expect(await probe.read()).toBe(23.125);
    expect(await new Ds18b20({ root, deviceId: '28-ffff00000000', sleep }).read()).toBe(-10.125);
    expect(sleeps).toEqual([]);
  });

  it('retries a CRC failure and then a fault with the reason after the configured attempts', async () => {
    await writeSlave(device, BAD_CRC);
    const error = await readError(new Ds18b20({ root, sleep, attempts: 4, retryDelayMs: 50 }));
    expect(error.kind).toBe('fault');
    expect(error.message).toContain('CRC check failed (NO) on all 4 attempts');
    expect(error.message).toContain('4.7 kΩ');
    expect(sleeps).toEqual([50, 50, 50]);
  });

  it('recovers when a retry reads clean', async () => {
    await writeSlave(device, BAD_CRC);
    const probe = new Ds18b20({
      root,
      sleep: async (ms) => {
        sleeps.push(ms);
        await writeSlave(device, GOOD);
      },
    });
    expect(await probe.read()).toBe(23.125);
    expect(sleeps).toHaveLength(1);
  });

  it('retries the 85 °C power-on value on a first read and takes the real reading after it', async () => {
    await writeSlave(device, POWER_ON);
    const probe = new Ds18b20({ root, sleep: async () => writeSlave(device, GOOD) });
    expect(await probe.read()).toBe(23.125);
  });

  it('reports a probe stuck at 85 °C as a power fault', async () => {
    await writeSlave(device, POWER_ON);
    const error = await readError(new Ds18b20({ root, sleep }));
    expect(error.kind).toBe('fault');
    expect(error.message).toContain('power-on value 85 °C');
    expect(error.message).toContain('3.3 V');
  });

  it('reports no 28-* device as missing, with the fix', async () => {
    await mkdir(join(root, 'w1_bus_master1'));
    const error = await readError(new Ds18b20({ root, sleep }));
    expect(error.kind).toBe('missing');
    expect(error.message).toContain('dtoverlay=w1-gpio');
    expect(error.message).toContain('4.7 kΩ pull-up');
  });

  it('reports 1-Wire off when the devices directory does not exist', async () => {
    const error = await readError(new Ds18b20({ root: join(root, 'nope'), sleep }));
    expect(error.kind).toBe('missing');
    expect(error.message).toContain('1-Wire is off');
  });

  it('points at the pull-up when only ghost 00-* devices show', async () => {
    await mkdir(join(root, '00-400000000000'));
    const error = await readError(new Ds18b20({ root, sleep }));
    expect(error.message).toContain('ghost devices (00-400000000000)');
  });

  it('reports a configured device that vanished as missing', async () => {
    await writeSlave(device, GOOD);
    const error = await readError(new Ds18b20({ root, deviceId: '28-000000000bad', sleep }));
    expect(error.kind).toBe('missing');
    expect(error.message).toContain('28-000000000bad is gone');
  });

  it('retries a read error such as EIO, then reports a fault', async () => {
    // A directory where the file should be makes readFile fail with EISDIR, standing in for EIO.
    await mkdir(join(root, device, 'w1_slave'), { recursive: true });
    const error = await readError(new Ds18b20({ root, sleep, attempts: 2 }));
    expect(error.kind).toBe('fault');
    expect(error.message).toContain('read failed');
    expect(sleeps).toHaveLength(1);
  });
});
