/**
 * Boot partitions as Raspberry Pi Imager leaves them, for the deploy.sh sdcard tests: the files are
 * the ones Imager's customisation generator writes (rpi-imager src/customization_generator.cpp: the
 * cloud-init user-data and network-config for Trixie, firstrun.sh and the cmdline.txt hook for Bookworm),
 * and config.txt is Raspberry Pi OS's, with its [cm4]/[cm5] filters before [all].
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export const CONFIG_TXT = `# For more options and information see
# http://rptl.io/configtxt
# Some settings may impact device functionality. See link above for details

# Uncomment some or all of these to enable the optional hardware interfaces
#dtparam=i2c_arm=on
#dtparam=i2s=on
#dtparam=spi=on

# Enable audio (loads snd_bcm2835)
dtparam=audio=on

# Automatically load overlays for detected cameras
camera_auto_detect=1

# Automatically load initramfs files, if found
auto_initramfs=1

# Enable DRM VC4 V3D driver
dtoverlay=vc4-kms-v3d
max_framebuffers=2

# Run in 64-bit mode
arm_64bit=1

[cm4]
# Enable host mode on the 2711 built-in XHCI USB controller.
otg_mode=1

[cm5]
dtoverlay=dwc2,dr_mode=host

[all]
`;

const CMDLINE = 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles cfg80211.ieee80211_regdom=GB';

export const IMAGER_USER_DATA = `#cloud-config
manage_resolv_conf: false

hostname: student-pi
manage_etc_hosts: true
packages:
- avahi-daemon

apt:
  preserve_sources_list: true
  conf: |
    Acquire {
      Check-Date "false";
    };

timezone: Europe/London
keyboard:
  model: pc105
  layout: "gb"
users:
- name: student
  groups: users,adm,dialout,audio,netdev,video,plugdev,cdrom,games,input,gpio,spi,i2c,render,sudo
  shell: /bin/bash
  lock_passwd: false
  passwd: "$5$u0cZx9yq$Yq3n3y1o6q1dC6a3s0oJm2r3b0lN4mK2vQe8x1f5r3C"

enable_ssh: true
ssh_pwauth: true
rpi:
  interfaces:
    i2c: true
`;

const IMAGER_NETWORK_CONFIG = `network:
  version: 2
  ethernets:
    eth0:
      dhcp4: true
      dhcp6: true
      optional: true
`;

export const IMAGER_FIRSTRUN = `#!/bin/sh

set +e

CURRENT_HOSTNAME=$(cat /etc/hostname | tr -d " \\t\\n\\r")
if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then
   /usr/lib/raspberrypi-sys-mods/imager_custom set_hostname student-pi
else
   echo student-pi >/etc/hostname
   sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\tstudent-pi/g" /etc/hosts
fi
FIRSTUSER=$(getent passwd 1000 | cut -d: -f1)
FIRSTUSERHOME=$(getent passwd 1000 | cut -d: -f6)
if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then
   /usr/lib/raspberrypi-sys-mods/imager_custom enable_ssh
else
   systemctl enable ssh
fi
if [ -f /usr/lib/userconf-pi/userconf ]; then
   /usr/lib/userconf-pi/userconf 'student' '$5$u0cZx9yq$Yq3n3y1o6q1dC6a3s0oJm2r3b0lN4mK2vQe8x1f5r3C'
fi
rm -f /boot/firstrun.sh
sed -i 's| systemd.run.*||g' /boot/cmdline.txt
exit 0
`;

export type Layout = 'trixie' | 'bookworm' | 'bookworm-imager';

/** A boot partition as Imager flashed it: Trixie with Imager's cloud-init files, Bookworm bare or with Imager's firstrun.sh. */
export function flashedCard(layout: Layout, at = mkdtempSync(join(tmpdir(), 'hedgerow-bootfs-'))): string {
  mkdirSync(at, { recursive: true });
  writeFileSync(join(at, 'config.txt'), CONFIG_TXT);
  if (layout === 'trixie') {
    writeFileSync(join(at, 'cmdline.txt'), `${CMDLINE}\n`);
    writeFileSync(join(at, 'user-data'), IMAGER_USER_DATA);
    writeFileSync(join(at, 'network-config'), IMAGER_NETWORK_CONFIG);
    writeFileSync(join(at, 'meta-data'), 'instance-id: rpi-imager-1765090000000\n');
  } else if (layout === 'bookworm') {
    writeFileSync(join(at, 'cmdline.txt'), `${CMDLINE}\n`);
  } else {
    writeFileSync(join(at, 'cmdline.txt'), `${CMDLINE} systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n`);
    writeFileSync(join(at, 'firstrun.sh'), IMAGER_FIRSTRUN);
  }
  return at;
}

export function sdcard(...args: string[]) {
  return spawnSync('bash', ['deploy.sh', 'sdcard', ...args], { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
}

/** Every file under dir, by relative path, with its content: to compare a card before and after. */
export function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path, 'latin1'));
    }
  };
  walk(dir);
  return files;
}

/** config.txt as [section] -> its lines; lines before the first filter are [all]'s, as the firmware reads them. */
export function configSections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>([['[all]', []]]);
  let current = '[all]';
  for (const line of text.split('\n')) {
    if (/^\[[^\]]*\]\s*$/.test(line)) {
      current = line.trim();
      if (!sections.has(current)) sections.set(current, []);
    } else if (line.trim() !== '' && !line.startsWith('#')) sections.get(current)!.push(line);
  }
  return sections;
}

export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}
