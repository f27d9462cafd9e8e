import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { BLACKLIST_HINT, loadedPn533Modules, PCSCD_MISSING_HINT, pcscdAnswers, pcscdSocketPath } from '../../hardware/nfc-diagnostics.ts';
import { ProcessNfcReader } from '../../hardware/nfc-process-reader.ts';
import type { Check } from './check.ts';
import type { Finding } from './report.ts';

/** The machine's checks: the clock, the museum box's reader and speaker, the systemd units. */

/** Before this, the clock has not been set: a Pi without an RTC boots at the last saved time, or 1970. */
const SANE_CLOCK = Date.UTC(2025, 0, 1);
/** How long doctor waits for pcscd to name a reader. */
const READER_WAIT_MS = 8000;

export const clockCheck: Check = {
  id: 'clock',
  title: 'the clock is synchronised',
  async run({ machine }) {
    const now = new Date();
    if (now.getTime() < SANE_CLOCK) {
      return { status: 'fail', found: `the clock says ${now.toISOString()}: it was never set (no network time, no RTC)`, fix: 'connect the Pi to a network with NTP (timedatectl), or fit an RTC; TLS to IoT Core fails until then' };
    }
    if (machine.systemd) {
      const shown = await machine.run('timedatectl', ['show', '--property=NTPSynchronized', '--value']);
      if (shown?.code === 0) {
        return shown.stdout.trim() === 'yes'
          ? { status: 'ok', found: `synchronised (timedatectl), ${now.toISOString()}` }
          : { status: 'warn', found: `not synchronised yet (timedatectl), ${now.toISOString()}`, fix: 'sudo timedatectl set-ntp true, and check the network; an RTC keeps the time without it' };
      }
    }
    if (existsSync(machine.path('/run/systemd/timesync/synchronized'))) return { status: 'ok', found: `synchronised (${machine.path('/run/systemd/timesync/synchronized')}), ${now.toISOString()}` };
    if (existsSync(machine.path('/dev/rtc0'))) return { status: 'ok', found: `an RTC is present (${machine.path('/dev/rtc0')}), ${now.toISOString()}` };
    return { status: 'warn', found: `cannot tell whether the clock is synchronised (no timedatectl answer, no timesync flag, no RTC); it says ${now.toISOString()}`, fix: 'sudo timedatectl set-ntp true, or fit an RTC' };
  },
};

export const nfcReaderCheck: Check = {
  id: 'nfc-reader',
  title: 'museum box: pcscd answers and a reader is present',
  async run({ settings, machine, log }) {
    if (!settings.museum.enabled) return { status: 'skip', found: 'museum.enabled is false' };
    if (settings.museum.reader.mode === 'virtual') return { status: 'skip', found: 'museum.reader.mode is virtual' };
    const socket = pcscdSocketPath();
    if (!(await pcscdAnswers(socket))) return { status: 'fail', found: `nothing answers on pcscd's socket ${socket}`, fix: PCSCD_MISSING_HINT };
    const modules = await loadedPn533Modules(machine.path('/proc/modules'));
    if (modules.length > 0) return { status: 'fail', found: `the kernel modules ${modules.join(', ')} are loaded and hold an ACR122U away from pcscd`, fix: BLACKLIST_HINT };
    const readers = await attachedReaders(log, settings.museum.reader.name);
    if (readers.length === 0) return { status: 'fail', found: `pcscd answers on ${socket} but lists no reader within ${READER_WAIT_MS / 1000} s`, fix: 'plug the reader in (lsusb lists an ACR122U as 072f:2200); pcsc_scan shows what pcscd sees' };
    return { status: 'ok', found: `pcscd on ${socket}, reader ${readers.join(', ')}` };
  },
};

/** The readers pcscd names, through the box's own reader process (its watchdog keeps a hung pcsclite call from holding doctor). */
async function attachedReaders(log: Logger, readerName: string | undefined): Promise<string[]> {
  const reader = new ProcessNfcReader({ log, readerName, led: false });
  const names: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const first = new Promise<void>((resolve) => {
    reader.on('attached', (name) => {
      names.push(name);
      resolve();
    });
    timer = setTimeout(resolve, READER_WAIT_MS);
  });
  await reader.start();
  await first;
  clearTimeout(timer);
  await reader.stop();
  return names;
}

export const audioCheck: Check = {
  id: 'audio',
  title: 'museum box: an audio output is there',
  async run({ settings, machine }) {
    if (!settings.museum.enabled) return { status: 'skip', found: 'museum.enabled is false' };
    if (settings.museum.audio.mode === 'virtual') return { status: 'skip', found: 'museum.audio.mode is virtual' };
    const listed = await machine.run('aplay', ['-l']);
    if (listed === null) return { status: 'fail', found: 'aplay is not installed', fix: 'sudo apt install alsa-utils mpg123' };
    const cards = listed.stdout.split('\n').filter((line) => line.startsWith('card '));
    if (cards.length === 0) return { status: 'fail', found: `aplay -l lists no sound card${listed.stderr.trim() ? ` (${listed.stderr.trim()})` : ''}`, fix: 'plug in a USB speaker or a HAT, or turn on the Pi\'s own audio with dtparam=audio=on in config.txt' };
    return { status: 'ok', found: `${cards.length} sound card(s): ${cards.map((c) => c.replace(/^card \d+: /, '')).join('; ')} (museum.audio.device ${settings.museum.audio.device})` };
  },
};

export const unitsCheck: Check = {
  id: 'units',
  title: 'the systemd units are enabled and active',
  async run({ machine }) {
    if (!machine.systemd) return { status: 'skip', found: 'systemd does not run this machine (a container, a chroot or a laptop): the units are not checked' };
    const listed = await machine.run('systemctl', ['list-unit-files', '--no-legend', '--plain', 'hedgerow*.service']);
    const units = (listed?.stdout ?? '').split('\n').map((line) => line.split(/\s+/)[0]!).filter((unit) => unit.endsWith('.service'));
    if (units.length === 0) return { status: 'fail', found: 'no hedgerow unit is installed', fix: 'sudo ./deploy.sh install' };
    const problems: Finding[] = [];
    const fine: string[] = [];
    for (const unit of units) {
      const enabled = (await machine.run('systemctl', ['is-enabled', unit]))?.stdout.trim() ?? 'unknown';
      const active = (await machine.run('systemctl', ['is-active', unit]))?.stdout.trim() ?? 'unknown';
      if (enabled !== 'enabled') problems.push({ status: 'fail', found: `${unit} is ${enabled}`, fix: `sudo systemctl enable --now ${unit}` });
      if (active !== 'active') problems.push({ status: 'fail', found: `${unit} is ${active}`, fix: `journalctl -u ${unit} -n 50 says why; then sudo systemctl restart ${unit}` });
      if (enabled === 'enabled' && active === 'active') fine.push(unit);
    }
    if (problems.length === 0) return { status: 'ok', found: `${fine.join(', ')} enabled and active` };
    return { status: 'fail', found: problems.map((p) => p.found).join('; '), fix: problems.map((p) => p.fix).join('; ') };
  },
};
