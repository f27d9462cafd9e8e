// `hedgerow doctor` on the stand-in Pi with a real systemd as PID 1 (test/deploy/helpers/machine.ts): the
// clock through timedatectl, and the units through systemctl, as on a Pi.
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorReport, type DoctorReport } from '../../bin/doctor/report.ts';
import { canBootMachines, MACHINE_TEST_TIMEOUT_MS, Machine } from '../deploy/helpers/machine.ts';
import { Mosquitto } from '../gateway/helpers/mosquitto.ts';

const REPO = join(import.meta.dirname, '../..');
const CONFIG = '/etc/hedgerow/hedgerow.yaml';
const UNIT = `[Unit]
Description=Hedgerow weather station
[Service]
User=hedgerow
ExecStart=/usr/bin/node ${REPO}/bin/hedgerow.js --config ${CONFIG} station
Restart=always
[Install]
WantedBy=multi-user.target
`;

describe.runIf(canBootMachines())('hedgerow doctor under a real systemd', { timeout: MACHINE_TEST_TIMEOUT_MS }, () => {
  let machine: Machine;
  let broker: Mosquitto;

  beforeAll(async () => {
    // The build the machine runs from: the repository is bound in read-only, so it cannot build there.
    const built = spawnSync(process.execPath, [join(REPO, 'bin/build.js'), '--quiet'], { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
    if (built.status !== 0) throw new Error(`bin/build.js failed: ${built.stderr}`);
    broker = await Mosquitto.start();
    const config = `station:\n  id: nspawn-1\n  interval: 5s\nhardware:\n  mode: virtual\ndataDir: /var/lib/hedgerow\nuplink:\n  url: ${broker.url}\n`;
    machine = await Machine.boot({ files: { [CONFIG]: config }, bindReadOnly: [REPO, realpathSync(join(REPO, 'node_modules'))] });
    // What deploy.sh install does for the user and its folder.
    const user = await machine.exec('useradd --system --home /var/lib/hedgerow --groups i2c,gpio,audio hedgerow && install -d -o hedgerow -g hedgerow /var/lib/hedgerow');
    if (user.status !== 0) throw new Error(`useradd failed: ${user.stderr}`);
  }, 25 * 60_000);

  afterAll(async () => {
    await machine?.stop();
    await broker?.stop();
  }, 120_000);

  async function doctor(): Promise<DoctorReport> {
    const out = await machine.exec(`node ${REPO}/bin/hedgerow.js doctor --json`, { timeoutMs: 120_000 });
    try {
      return doctorReport.parse(JSON.parse(out.stdout));
    } catch (error) {
      throw new Error(`doctor's output did not parse (${(error as Error).message}): ${out.stdout}${out.stderr}`, { cause: error });
    }
  }

  const find = (report: DoctorReport, id: string) => report.checks.find((c) => c.id === id)!;

  it('reads the clock from timedatectl and names a missing unit, then a disabled one, and passes an enabled, active one', { timeout: 5 * 60_000 }, async () => {
    const none = await doctor();
    expect(none.config).toBe(CONFIG);
    expect(find(none, 'clock').found).toMatch(/\(timedatectl\)/);
    expect(find(none, 'units')).toMatchObject({ status: 'fail', found: 'no hedgerow unit is installed', fix: 'sudo ./deploy.sh install' });

    await machine.exec(`cat > /etc/systemd/system/hedgerow.service <<'EOF'\n${UNIT}EOF\nsystemctl daemon-reload && systemctl enable --now hedgerow.service`);
    let state = '';
    for (let i = 0; i < 120 && state !== 'active'; i++) {
      state = (await machine.exec('systemctl is-active hedgerow.service')).stdout.trim();
      if (state !== 'active') await new Promise((done) => setTimeout(done, 500));
    }
    expect(state).toBe('active');
    const running = await doctor();
    expect(find(running, 'units')).toMatchObject({ status: 'ok', found: 'hedgerow.service enabled and active' });
    expect(find(running, 'groups')).toMatchObject({ status: 'ok', found: 'hedgerow is in i2c, gpio, audio' });

    await machine.exec('systemctl disable hedgerow.service');
    const disabled = await doctor();
    expect(find(disabled, 'units')).toMatchObject({ status: 'fail', found: 'hedgerow.service is disabled', fix: 'sudo systemctl enable --now hedgerow.service' });
    expect(disabled.ok).toBe(false);
  });
});
