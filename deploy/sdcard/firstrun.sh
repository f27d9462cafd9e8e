#!/bin/bash
# hedgerow-firstrun: written by deploy.sh sdcard (Bookworm). cmdline.txt starts this once, at the first
# boot (systemd.run=, then a reboot); it runs Raspberry Pi Imager's own firstrun.sh first when there was
# one (user, Wi-Fi, SSH, locale), then Hedgerow's step, then takes itself out of cmdline.txt.
set +e
# The boot partition: where this script is, as cmdline.txt named it (Imager's /boot/firstrun.sh or
# /boot/firmware/firstrun.sh); Bookworm mounts it at /boot/firmware.
boot="$(cd "$(dirname "$0")" && pwd)"
[ -f "$boot/hedgerow/firstboot.sh" ] || boot=/boot/firmware
if [ -f "$boot/hedgerow/imager-firstrun.sh" ]; then
  bash "$boot/hedgerow/imager-firstrun.sh"
  rm -f "$boot/hedgerow/imager-firstrun.sh"
fi
bash "$boot/hedgerow/firstboot.sh"
rm -f "$boot/firstrun.sh"
sed -i 's| systemd.run.*||g' "$boot/cmdline.txt"
exit 0
