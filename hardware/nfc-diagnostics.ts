/**
 * Why a museum box sees no NFC reader, in the words a teacher can act on. The two usual causes on a
 * Raspberry Pi: pcscd is not running (or not installed), and Linux's own NFC stack (pn533_usb, pn533,
 * nfc) grabbed the ACR122U before pcscd could.
 */
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';

/** pcsc-lite's client socket; libpcsclite honours PCSCLITE_CSOCK_NAME, so we do too. */
export const DEFAULT_PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
/** Kernel modules that claim the ACR122U's PN533 chip and hide it from pcscd. */
export const PN533_MODULES = ['pn533_usb', 'pn533', 'nfc'] as const;

export const PCSCD_MISSING_HINT =
  'pcscd is not running: install and enable it with `sudo apt install pcscd && sudo systemctl enable --now pcscd.socket`';

export const BLACKLIST_HINT =
  "blacklist them: `printf 'blacklist pn533_usb\\nblacklist pn533\\nblacklist nfc\\n' | sudo tee /etc/modprobe.d/blacklist-pn533.conf`, " +
  'then `sudo modprobe -r pn533_usb pn533 nfc` (or reboot) and unplug and replug the reader';

export function pcscdSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PCSCLITE_CSOCK_NAME || DEFAULT_PCSCD_SOCKET;
}

/**
 * True when something accepts connections on pcscd's socket. Checked before every connect because
 * @pokusew/pcsclite retries SCardEstablishContext in a tight loop on the main thread while pcscd is
 * down, which would freeze the whole box.
 */
export function pcscdAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The PN533 modules that are loaded now, from /proc/modules (empty when it cannot be read). */
export async function loadedPn533Modules(modulesPath = '/proc/modules'): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(modulesPath, 'utf8');
  } catch {
    return [];
  }
  const loaded = new Set(text.split('\n').map((line) => line.split(' ')[0]));
  return PN533_MODULES.filter((name) => loaded.has(name));
}

/** The log line for "pcscd answers, but no reader showed up". */
export async function noReaderMessage(modulesPath?: string): Promise<string> {
  const modules = await loadedPn533Modules(modulesPath);
  const reasons = [
    'is the reader plugged in? (`lsusb` lists an ACR122U as 072f:2200, an ACR1252U as 072f:223b; `pcsc_scan` shows what pcscd sees)',
    modules.length > 0
      ? `the kernel modules ${modules.join(', ')} are loaded and hold the ACR122U: ${BLACKLIST_HINT}`
      : `if it is an ACR122U, the kernel modules pn533_usb/pn533/nfc may hold it: ${BLACKLIST_HINT}`,
  ];
  return `no NFC reader found yet; waiting for one. ${reasons.map((r, i) => `(${i + 1}) ${r}`).join(' ')}`;
}
