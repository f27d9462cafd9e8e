#!/usr/bin/env bash
# firstboot.sh: Hedgerow's first boot on the Pi, put on the boot partition by `deploy.sh sdcard` as
# /boot/firmware/hedgerow/firstboot.sh. It logs to hedgerow-firstboot.log on the boot partition, which
# you can read on the laptop, and never logs a password or key.
#
#   firstboot.sh [--now]    from cloud-init's runcmd (Trixie) or firstrun.sh (Bookworm), as root:
#       moves the station config, certificates and Wi-Fi key off the FAT partition (which has no file
#       modes) into /etc/hedgerow, mode 0600, owned by the service user; sets the hostname, SSH and
#       (Bookworm) Wi-Fi; enables hedgerow-firstboot.service, which runs the install once the network
#       is up: on the next boot, or at once with --now (cloud-init runs late enough for that).
#   firstboot.sh --install  from hedgerow-firstboot.service: deploy/install.sh from the copy on the card,
#       then the units. On success it never runs again; on failure (no network) it runs on the next boot.
#
# HEDGEROW_ROOT=/some/dir runs every file step inside that folder and skips useradd, chown, apt, npm and
# systemctl, as install.sh does: that is how the test suite checks it without a Pi.
set -Eeuo pipefail   # -E: the ERR trap below fires inside functions too
card="$(cd "$(dirname "$0")" && pwd)"   # the hedgerow/ folder on the boot partition
boot="$(dirname "$card")"
root="${HEDGEROW_ROOT:-}"
real() { [ -z "$root" ]; }
etc="$root/etc/hedgerow"
done_marker="$etc/firstboot.done"
service_user=hedgerow

mode=early
now=0
while [ $# -gt 0 ]; do
  case "$1" in
    --now) now=1; shift ;;
    --install) mode=install; shift ;;
    *) echo "firstboot.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

exec >>"$boot/hedgerow-firstboot.log" 2>&1
log() { echo "$(date -u +%FT%TZ) firstboot: $*"; }
on_error() { local rc=$?; log "FAILED at line $1 (exit $rc): see the lines above; fix it and reboot, and this step runs again"; }
trap 'on_error $LINENO' ERR

if [ -f "$done_marker" ]; then log "already done ($done_marker): nothing to do"; exit 0; fi

# station.env: what deploy.sh sdcard chose (no secrets), one KEY=value a line. Read, not sourced: it is
# on a partition anyone with the card can write.
declare -A env=()
while IFS='=' read -r key value; do [ -n "$key" ] && env[$key]=$value; done < "$card/station.env"
station_id=${env[STATION_ID]}
build=${env[BUILD]}

# secure FILE DEST: a secret from the card into /etc/hedgerow, 0600, owned by the service user, then off the card.
secure() {
  local from=$1 to=$2
  [ -f "$from" ] || return 0
  install -d -m 0750 "$(dirname "$to")"
  install -m 0600 "$from" "$to"
  if real; then chown "$service_user:$service_user" "$to"; chgrp "$service_user" "$(dirname "$to")"; fi
  rm -f "$from"
  log "moved $(basename "$from") to ${to#"$root"} (mode 0600)"
}

early() {
  log "first boot of station $station_id ($build)"
  # The service user first, so the secrets can be its own; install.sh makes the same user if it is missing.
  if real && ! id "$service_user" >/dev/null 2>&1; then
    useradd --system --home /var/lib/hedgerow --groups i2c,gpio,audio "$service_user"
  fi
  install -d -m 0750 "$etc"
  secure "$card/hedgerow.yaml" "$etc/hedgerow.yaml"
  for pem in "$card"/aws/*.pem; do secure "$pem" "$etc/aws/$(basename "$pem")"; done
  rmdir "$card/aws" 2>/dev/null || true

  if [ -n "${env[HOSTNAME]:-}" ]; then
    if real && [ -x /usr/lib/raspberrypi-sys-mods/imager_custom ]; then
      /usr/lib/raspberrypi-sys-mods/imager_custom set_hostname "${env[HOSTNAME]}"
    else
      local old; old=$(tr -d ' \t\n\r' < "$root/etc/hostname" 2>/dev/null || true)
      echo "${env[HOSTNAME]}" > "$root/etc/hostname"
      if [ -n "$old" ] && [ -f "$root/etc/hosts" ]; then sed -i "s/127.0.1.1.*$old/127.0.1.1\t${env[HOSTNAME]}/" "$root/etc/hosts"; fi
    fi
    log "hostname ${env[HOSTNAME]}"
  fi

  if [ -f "$card/wifi.env" ]; then wifi; fi

  install -d "$root/etc/systemd/system"
  install -m 0644 "$card/hedgerow-firstboot.service" "$root/etc/systemd/system/hedgerow-firstboot.service"
  # install.sh's hardening drop-in (hedgerow-.service.d/) applies to every hedgerow-* unit; this one installs
  # packages and writes /etc as root, so a same-named link to /dev/null masks it for this unit only.
  install -d "$root/etc/systemd/system/hedgerow-firstboot.service.d"
  ln -sfn /dev/null "$root/etc/systemd/system/hedgerow-firstboot.service.d/hardening.conf"
  if real; then
    systemctl enable ssh hedgerow-firstboot.service
    # Under cloud-init the system is up and the network too: install now. Under firstrun.sh the Pi reboots first.
    if [ "$now" = 1 ]; then systemctl start --no-block hedgerow-firstboot.service; fi
  fi
  log "SSH enabled; hedgerow-firstboot.service installs Hedgerow $([ "$now" = 1 ] && echo now || echo 'after the reboot')"
}

# Bookworm's Wi-Fi, as Imager's firstrun.sh sets it: NetworkManager's connection, with the hashed key.
wifi() {
  declare -A w=()
  while IFS='=' read -r key value; do [ -n "$key" ] && w[$key]=$value; done < "$card/wifi.env"
  local ssid; ssid=$(printf '%s' "${w[WIFI_SSID_B64]}" | base64 -d)
  if real && [ -x /usr/lib/raspberrypi-sys-mods/imager_custom ]; then
    /usr/lib/raspberrypi-sys-mods/imager_custom set_wlan "$ssid" "${w[WIFI_PSK]}" "${w[WIFI_COUNTRY]}"
  else
    local conn="$root/etc/NetworkManager/system-connections/hedgerow-wifi.nmconnection"
    install -d -m 0700 "$(dirname "$conn")"
    (umask 077; printf '[connection]\nid=hedgerow-wifi\ntype=wifi\nautoconnect=true\n\n[wifi]\nmode=infrastructure\nssid=%s\n\n[wifi-security]\nkey-mgmt=wpa-psk\npsk=%s\n\n[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n' "$ssid" "${w[WIFI_PSK]}" > "$conn")
    if real; then
      iw reg set "${w[WIFI_COUNTRY]}" 2>/dev/null || true
      rfkill unblock wifi 2>/dev/null || true
    fi
  fi
  rm -f "$card/wifi.env"
  log "Wi-Fi network set (country ${w[WIFI_COUNTRY]}; the key is not logged)"
}

install_hedgerow() {
  log "installing Hedgerow from the copy on the card"
  local args=(--build "$build" --station-id "$station_id")
  if [ "${env[MUSEUM]:-0}" = 1 ]; then args+=(--museum); fi
  if [ -d "$card/npm-cache" ]; then
    # --bundle: npm takes every package from the cache on the card, with no network.
    export npm_config_cache="$card/npm-cache" npm_config_offline=true
    log "using the bundled npm cache (offline)"
  fi
  HEDGEROW_ROOT="$root" bash "$card/src/deploy/install.sh" "${args[@]}"
  if real; then
    modprobe i2c-dev 2>/dev/null || true
    # install.sh enabled the station's unit (it runs the museum box too with --museum): start it now.
    systemctl start hedgerow-station.service
    systemctl disable hedgerow-firstboot.service
  fi
  touch "$done_marker"
  # The copy and the cache are in /opt/hedgerow now; the card's space is the user's again.
  rm -rf "$card/src" "$card/npm-cache"
  log "done: station $station_id is running. Check it: sudo -u hedgerow hedgerow status (logs: journalctl -u hedgerow-station -f)"
}

if [ "$mode" = early ]; then early; else install_hedgerow; fi
