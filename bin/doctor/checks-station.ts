import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { probeSensors } from '../../device/sensor-probe.ts';
import { detectGpioBase, PI_GPIO_CHIP_LABELS, sysfsNumber } from '../../hardware/gpio-base.ts';
import { activeLines, addBootLines, bootLines, configTxtPath, INSTALL_SCRIPT } from './boot-config.ts';
import { noUser, type Check } from './check.ts';
import { groupNames, lookUpUser, modeString, statOrNull, userMay } from './machine.ts';
import type { Finding } from './report.ts';

/** The station's own checks, in doctor's order: its id, the boot config, the buses, the sensors, the groups. */

/** The groups the service user needs: I²C, GPIO (anemometer, rain gauge) and audio (museum box). */
export const SERVICE_GROUPS = ['i2c', 'gpio', 'audio'] as const;

/** How long the wind and rain counters collect in doctor's probe: enough to see them answer. */
const PROBE_COLLECT_MS = 1000;

export const stationIdCheck: Check = {
  id: 'station-id',
  title: 'station id is set',
  async run({ raw, settings }) {
    const station = raw.station as Record<string, unknown> | undefined;
    if (station?.id !== undefined) return { status: 'ok', found: `station.id is ${settings.station.id}` };
    return {
      status: 'warn',
      found: `station.id is not set, so it is the hostname ${hostname()} (${settings.station.id}): two Pis with the same hostname would report as one station`,
      fix: 'set station.id in the config file (sudo ./deploy.sh install --station-id ID writes it)',
    };
  },
};

export const configTxtCheck: Check = {
  id: 'config-txt',
  title: 'config.txt turns on I²C, 1-Wire and the GPIO pull-ups',
  async run({ machine, settings, fix }) {
    const path = configTxtPath(machine);
    if (path === null) {
      return { status: 'fail', found: `no config.txt in ${machine.path('/boot/firmware')} or ${machine.path('/boot')}`, fix: 'is this a Raspberry Pi OS image? The firmware reads config.txt from the boot partition' };
    }
    const wanted = bootLines(settings.station.build);
    const active = activeLines(readFileSync(path, 'utf8'));
    const missing = wanted.filter((line) => !active.has(line));
    if (missing.length === 0) return { status: 'ok', found: `${path} has ${wanted.join(', ')}` };
    if (fix) {
      return { status: 'warn', found: `${path} lacked ${missing.join(', ')}; added, active after a reboot`, fix: 'reboot to apply: sudo reboot', fixed: addBootLines(path, missing) };
    }
    return {
      status: 'fail',
      found: `${path} lacks ${missing.join(', ')} (the lines ${INSTALL_SCRIPT.split('/').slice(-2).join('/')} pi_config_lines lists)`,
      fix: 'sudo hedgerow doctor --fix adds them under [all]; then reboot',
    };
  },
};

export const i2cDeviceCheck: Check = {
  id: 'i2c-device',
  title: 'the I²C bus device is there and the service user can use it',
  async run(ctx) {
    const path = ctx.machine.path(`/dev/i2c-${ctx.settings.hardware.i2cBus}`);
    const stats = statOrNull(path);
    if (stats === null) {
      return { status: 'fail', found: `${path} does not exist: I²C is off, or the i2c-dev module is not loaded`, fix: 'sudo raspi-config nonint do_i2c 0 (or sudo hedgerow doctor --fix), then reboot' };
    }
    if (ctx.user === null) return noUser(ctx);
    if (!userMay(ctx.user, stats, 'r') || !userMay(ctx.user, stats, 'w')) {
      return { status: 'fail', found: `${path} (mode ${modeString(stats)}) is not readable and writable by ${ctx.user.name}`, fix: `add ${ctx.user.name} to the i2c group: sudo hedgerow doctor --fix` };
    }
    return { status: 'ok', found: `${path} is there and ${ctx.user.name} may use it` };
  },
};

export const sensorsCheck: Check = {
  id: 'sensors',
  title: 'the sensors of the configured build answer',
  async run({ settings, log }) {
    const lines: string[] = [];
    const ok = await probeSensors(settings, log, (line) => lines.push(line), { collectMs: PROBE_COLLECT_MS });
    const found = lines.filter((line) => !line.includes('collecting wind and rain')).map((line) => line.replace(/\s{2,}/g, ' ')).join('; ');
    return ok
      ? { status: 'ok', found }
      : { status: 'fail', found, fix: 'check the wiring of each sensor not marked ok (hedgerow sensors prints one line per sensor)' };
  },
};

export const oneWireCheck: Check = {
  id: 'one-wire',
  title: 'the 1-Wire ground probe is listed',
  async run({ machine, settings }) {
    if (!settings.hardware.groundProbe) return { status: 'skip', found: 'hardware.groundProbe is false: this build has no ground probe' };
    const folder = machine.path(settings.hardware.oneWireRoot);
    let probes: string[];
    try {
      probes = readdirSync(folder).filter((name) => name.startsWith('28-'));
    } catch {
      return { status: 'fail', found: `${folder} does not exist: 1-Wire is off`, fix: 'sudo hedgerow doctor --fix adds dtoverlay=w1-gpio to config.txt; then reboot' };
    }
    if (probes.length === 0) {
      return { status: 'fail', found: `no DS18B20 (28-*) in ${folder}`, fix: 'check the probe: data on GPIO 4 with a 4.7 kΩ pull-up to 3.3 V, or set hardware.groundProbe: false' };
    }
    return { status: 'ok', found: `DS18B20 ${probes.join(', ')} in ${folder}` };
  },
};

export const gpioCheck: Check = {
  id: 'gpio',
  title: 'the GPIO chip of the 40-pin header is found',
  async run({ machine, settings }) {
    const root = machine.path(settings.hardware.gpio.sysfsRoot);
    if (!existsSync(root)) return { status: 'fail', found: `${root} does not exist: the anemometer and rain gauge cannot be read`, fix: 'is this a Raspberry Pi? Raspberry Pi OS kernels have the GPIO sysfs (hardware.gpio.sysfsRoot)' };
    const { anemometerPin, rainPin } = settings.hardware.gpio;
    const found = await detectGpioBase(root);
    if (found.chip === null) {
      return { status: 'warn', found: `no gpiochip labelled ${PI_GPIO_CHIP_LABELS.join(', ')} in ${root}: base 0 is used, as on kernels before 6.6`, fix: 'on a current Raspberry Pi OS this means an unknown board: tell us its /sys/class/gpio/gpiochip*/label' };
    }
    return { status: 'ok', found: `${found.chip} (${found.label}) at base ${found.base}: anemometer BCM ${anemometerPin} is sysfs ${sysfsNumber(anemometerPin, found.base)}, rain gauge BCM ${rainPin} is sysfs ${sysfsNumber(rainPin, found.base)}` };
  },
};

export const groupsCheck: Check = {
  id: 'groups',
  title: `the service user is in the ${SERVICE_GROUPS.join(', ')} groups`,
  async run(ctx) {
    if (ctx.user === null) return noUser(ctx);
    const existing = groupNames(ctx.machine);
    const absent = SERVICE_GROUPS.filter((group) => !existing.has(group));
    const missing = SERVICE_GROUPS.filter((group) => existing.has(group) && !ctx.user!.groups.has(group));
    const fixed: string[] = [];
    if (ctx.fix && missing.length > 0) {
      const root = ctx.machine.root === '/' ? [] : ['--root', ctx.machine.root];
      const error = await usermod([...root, '--append', '--groups', missing.join(','), ctx.user.name]);
      if (error) return { status: 'fail', found: `usermod could not add ${ctx.user.name} to ${missing.join(', ')}: ${error}`, fix: `sudo usermod -aG ${missing.join(',')} ${ctx.user.name}` };
      fixed.push(`added ${ctx.user.name} to ${missing.join(', ')} (restart the service to use them: sudo systemctl restart hedgerow)`);
      ctx.user = lookUpUser(ctx.machine, ctx.user.name);
    }
    const still = SERVICE_GROUPS.filter((group) => existing.has(group) && !ctx.user?.groups.has(group));
    const problems: Finding[] = [];
    if (absent.length > 0) problems.push({ status: 'fail', found: `no ${absent.join(', ')} group on this machine`, fix: 'is this Raspberry Pi OS? Its i2c, gpio and audio groups own /dev/i2c-*, the GPIO and the sound cards' });
    if (still.length > 0) problems.push({ status: 'fail', found: `${ctx.serviceUser} is not in ${still.join(', ')}`, fix: `sudo hedgerow doctor --fix (or sudo usermod -aG ${still.join(',')} ${ctx.serviceUser})` });
    if (problems.length === 0) return { status: 'ok', found: `${ctx.serviceUser} is in ${SERVICE_GROUPS.join(', ')}`, fixed };
    return { status: 'fail', found: problems.map((p) => p.found).join('; '), fix: problems.map((p) => p.fix).join('; '), fixed };
  },
};

function usermod(args: string[]): Promise<string | null> {
  return new Promise((resolve) => execFile('usermod', args, { timeout: 10_000 }, (error, _out, stderr) => resolve(error ? (stderr.trim() || error.message) : null)));
}

