#!/usr/bin/env bash
# Builds (once) the Debian root that stands in for a Raspberry Pi OS Lite in the deploy tests, and prints
# its path. A real systemd boots it under systemd-nspawn (test/deploy/helpers/machine.ts).
#
# The root is cached in $HEDGEROW_TEST_CACHE (default /var/cache/hedgerow-test), keyed by the suite and
# package list below, so a machine debootstraps it once (about 2.5 minutes here) and every later run
# reuses it. Tests boot it with --ephemeral, so it is never changed. Two runs at once wait on one lock.
#
# The packages are what Raspberry Pi OS Lite has, plus what deploy.sh installs there (so the tests need
# no Debian mirror once the root is built), plus openssh-server for deploy.sh pi.
set -euo pipefail
suite=bookworm
packages=(
  systemd systemd-sysv dbus udev sudo procps iproute2 kmod ca-certificates curl git
  openssh-server openssh-client
  python3 make g++ libpcsclite-dev pcscd mpg123 alsa-utils espeak-ng i2c-tools
)
cache="${HEDGEROW_TEST_CACHE:-/var/cache/hedgerow-test}"
key=$(printf '%s\n' "$suite" "${packages[@]}" | sha256sum | cut -c1-12)
root="$cache/debian-$suite-$key"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$root/.hedgerow-root-complete" ]; then
  command -v debootstrap >/dev/null || { echo "debian-root: debootstrap is missing: apt-get install debootstrap systemd-container" >&2; exit 1; }
  rm -rf "$root.partial"
  echo "debian-root: building $root with debootstrap (once per machine, a few minutes)" >&2
  include=$(IFS=,; echo "${packages[*]}")
  debootstrap --variant=minbase --include="$include" "$suite" "$root.partial" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 || {
    echo "debian-root: debootstrap failed; its log is $cache/debootstrap.log" >&2; tail -5 "$cache/debootstrap.log" >&2; exit 1; }
  # A Pi's first user has passwordless sudo, and the groups Raspberry Pi OS has for its hardware.
  chroot "$root.partial" sh -c 'for g in i2c gpio spi; do getent group $g >/dev/null || groupadd --system $g; done
    useradd --create-home --shell /bin/bash --groups sudo,i2c,gpio,audio pi
    echo "pi ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/010_pi-nopasswd; chmod 0440 /etc/sudoers.d/010_pi-nopasswd
    echo raspberrypi > /etc/hostname
    systemctl enable ssh >/dev/null 2>&1 || true
    apt-get clean'
  mkdir -p "$root.partial/boot/firmware"
  printf '[all]\ndtparam=audio=on\n' > "$root.partial/boot/firmware/config.txt"
  touch "$root.partial/.hedgerow-root-complete"
  rm -rf "$root"; mv "$root.partial" "$root"
fi
echo "$root"
