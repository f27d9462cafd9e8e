#!/usr/bin/env bash
# deploy.sh install: on the Pi itself, as root, install or upgrade Hedgerow from this copy and enable it on boot.
#
#   sudo ./deploy.sh install [--role station|museum|cloud] [--build bme280|weather-hat] [--station-id ID] [--museum]
#                            [--config FILE] [--api-port N] [--storage sqlite|URL] [--health-timeout SECONDS]
#                            [--npm-cache DIR]
#
# `deploy.sh sdcard` runs this at first boot, and `deploy.sh pi` / `deploy.sh cloud` run it over SSH.
#
# What it does, each step idempotent (running it twice changes nothing the second time, and says so):
#   1. enables I²C and the 1-Wire ground probe (with `raspi-config nonint` where it exists, else in
#      config.txt), the GPIO pull-ups for the anemometer and rain gauge (and the PCF8523 RTC overlay for the
#      Oracle Weather HAT); with --museum blacklists the pn533 modules that would take the ACR122U reader;
#   2. installs what is missing of Node.js 20 or newer (Debian's on Trixie; NodeSource's on Bookworm, which
#      ships 18), the build tools for the native modules, and the audio / PC/SC packages;
#   3. puts the code in a new release, /opt/hedgerow/releases/<id> (the id is the version and a hash of the
#      copied files: the same tree is the same release), and runs `npm ci --omit=dev` there, which builds the
#      native modules and the plain-JavaScript bundle in dist/ the service runs; an unchanged
#      package-lock.json reuses the previous release's modules instead;
#   4. writes /etc/hedgerow/hedgerow.yaml (kept if it exists; --config FILE replaces it) and the systemd
#      units of deploy/units/ (hedgerow-station.service, or hedgerow-cloud.service; Type=notify with a
#      watchdog, hardened by one drop-in, running as user hedgerow), and removes the hedgerow.service of
#      an earlier install;
#   5. points /opt/hedgerow/current at the new release, restarts the units and checks their health: a
#      station must make a new record (`hedgerow status`), the engine (--role cloud) must answer on its
#      port, within --health-timeout (default 420 s: a station records every 5 minutes). If the check
#      fails it points `current` back at the previous release, restarts that, and exits 1 saying so.
#      The last 3 releases are kept. Data (/var/lib/hedgerow) and config (/etc/hedgerow) are never in a
#      release, so an upgrade or a rollback keeps the outbox and the config.
#
# --role museum is a Pi that is only a museum box (hedgerow-museum.service); a station with --museum runs
# the box inside its own unit, one process per outbox.
# --role cloud installs the engine instead (channels, datasets, the farmers' page: `hedgerow cloud`) with
# its config in /etc/hedgerow/cloud.yaml and its files in /var/lib/hedgerow/cloud, where it makes its API
# keys (api-credentials.json) on its first start and keeps them.
#
# HEDGEROW_ROOT=/some/dir runs every file step inside that folder and skips apt, npm and systemctl:
# that is how the test suite checks this script without a Pi. --npm-cache DIR (or HEDGEROW_NPM_CACHE=DIR)
# runs npm ci --offline on that npm cache: a Pi with no Internet, or the tests' copy of the host's cache.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=deploy/lib.sh
. "$src/deploy/lib.sh"

# How node runs the service; test/bench/week-outage.bench.ts reads these two lines, so it measures what a
# Pi runs. Heap caps (NODE_OPTIONS): a long backlog drain otherwise grows V8's heap to ~130 MB on a 512 MB
# Pi Zero. --jitless: V8's interpreter only, no compiled code to keep; it took 9 MB off the drain's peak
# RSS at no measurable CPU cost (the gateway's work is SQLite, JSON and sockets, all native). It turns
# WebAssembly off, and with it Node's fetch(); nothing a Pi runs uses them (--no-expose-wasm says so
# quietly: without it node warns on every start).
node_options='--max-old-space-size=64 --max-semi-space-size=1'
node_flags='--jitless --no-expose-wasm'

root="${HEDGEROW_ROOT:-}"
build=auto
station_id=''
role=station
museum=0
given_config=''
api_port=8780
storage=sqlite
health_timeout=420
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --station-id) station_id="$2"; shift 2 ;;
    --role) role="$2"; shift 2 ;;
    --museum) museum=1; shift ;;
    --config) given_config="$2"; shift 2 ;;
    --api-port) api_port="$2"; shift 2 ;;
    --storage) storage="$2"; shift 2 ;;
    --health-timeout) health_timeout="$2"; shift 2 ;;
    --npm-cache) export HEDGEROW_NPM_CACHE="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage "$0"; exit 0 ;;
    *) die 2 "install: unknown option $1 (see ./deploy.sh install --help)" ;;
  esac
done
case "$build" in auto|bme280|weather-hat) ;; *) echo "deploy.sh: --build must be auto, bme280 or weather-hat, not '$build'" >&2; exit 2 ;; esac
if [ -n "$station_id" ]; then check_station_id "$station_id"; fi
case "$role" in station|museum|cloud) ;; *) die 2 "--role must be station, museum (a Pi that is only a museum box) or cloud, not '$role'" ;; esac
if [ "$role" = museum ]; then museum=1; fi
check_storage "$storage"
if ! [[ "$api_port" =~ ^[0-9]{1,5}$ ]] || [ "$api_port" -lt 1 ] || [ "$api_port" -gt 65535 ]; then die 2 "--api-port must be a port number (1-65535), not '$api_port'"; fi
[[ "$health_timeout" =~ ^[0-9]{1,5}$ ]] || die 2 "--health-timeout must be whole seconds, not '$health_timeout'"
if [ -n "$given_config" ] && [ ! -f "$given_config" ]; then die 2 "--config: no file $given_config"; fi
# shellcheck source=deploy/release.sh
. "$src/deploy/release.sh"

# The units this role runs; block 4 installs and enables them, block 5 restarts and checks them.
case "$role" in
  station) units='hedgerow-station.service'; role_config=hedgerow.yaml; if [ "$museum" = 1 ]; then units="$units hedgerow-museum.service"; fi ;;
  museum) units='hedgerow-museum.service'; role_config=hedgerow.yaml ;;
  cloud) units='hedgerow-cloud.service'; role_config=cloud.yaml ;;
esac

real() { [ -z "$root" ]; }

if real && [ "$(id -u)" != 0 ]; then echo "deploy.sh: run it as root: sudo $0 $*" >&2; exit 1; fi

# 1. config.txt: Bookworm and later keep it in /boot/firmware, older releases in /boot. A cloud server has none.
if [ "$role" != cloud ]; then
  config_txt="$root/boot/firmware/config.txt"
  [ -f "$config_txt" ] || config_txt="$root/boot/config.txt"
  if [ ! -f "$config_txt" ]; then
    echo "deploy.sh: no config.txt in /boot/firmware or /boot: is this a Raspberry Pi OS image? (an engine server: --role cloud)" >&2; exit 1
  fi
  ensure_line() {
    grep -qxF "$1" "$config_txt" || { echo "$1" >> "$config_txt"; say "config.txt: added $1"; }
  }
  # raspi-config also turns I²C on at once (no reboot), so a first install's health check finds the bus.
  # It writes its own dtparam line; ensure_line then finds it there and adds no second one.
  if real && command -v raspi-config >/dev/null; then
    raspi-config nonint do_i2c 0
    raspi-config nonint do_onewire 0
  fi
  while read -r line; do ensure_line "$line"; done < <(pi_config_lines "$build")
  modules="$root/etc/modules"
  mkdir -p "$(dirname "$modules")"; touch "$modules"
  grep -qxF 'i2c-dev' "$modules" || { echo 'i2c-dev' >> "$modules"; say "/etc/modules: added i2c-dev"; }
  # Linux's NFC modules claim an ACR122U before pcscd can; the museum box reads it through pcscd.
  if [ "$museum" = 1 ]; then
    blacklist="$root/etc/modprobe.d/hedgerow-acr122u.conf"
    wanted=$'# Hedgerow museum box: the ACR122U reader belongs to pcscd, not to the kernel\'s NFC stack.\nblacklist pn533_usb\nblacklist pn533\nblacklist nfc'
    if [ "$(cat "$blacklist" 2>/dev/null)" != "$wanted" ]; then
      mkdir -p "$(dirname "$blacklist")"; printf '%s\n' "$wanted" > "$blacklist"; say "wrote $blacklist (pn533 blacklisted for the ACR122U)"
      if real && grep -qE '^pn533' /proc/modules; then modprobe -r pn533_usb pn533 nfc || say "pn533 is in use: reboot to free the reader"; fi
    fi
  fi
fi

# 2. packages and Node.js: only what is missing, so a second run needs no network.
if real; then
  export DEBIAN_FRONTEND=noninteractive
  packages=(ca-certificates curl git python3 make g++)
  if [ "$role" != cloud ]; then packages+=(i2c-tools libpcsclite-dev pcscd mpg123 alsa-utils espeak-ng); fi
  # The museum box trims and normalises every story with ffmpeg (hedgerow box assign).
  if [ "$museum" = 1 ]; then packages+=(ffmpeg); fi
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "${#missing[@]}" -gt 0 ] || [ "$node_major" -lt 20 ]; then apt-get update -qq; fi
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ "$node_major" -lt 20 ]; then
    if apt-cache policy nodejs | grep -qE 'Candidate: (2[0-9]|[3-9][0-9])\.'; then
      apt-get install -y -qq nodejs npm >/dev/null
    else
      say "this release ships Node.js older than 20: adding NodeSource's Node.js 22 repository"
      curl -fsSL https://deb.nodesource.com/setup_22.x | bash -
      apt-get install -y -qq nodejs >/dev/null
    fi
  fi
  say "node $(node --version)"
fi

# 3. the code: a release per tree, built beside the running one (deploy/release.sh).
app="$root/opt/hedgerow"
if real; then
  groups=$(for g in i2c gpio audio; do getent group "$g" >/dev/null && printf '%s,' "$g"; done)
  id hedgerow >/dev/null 2>&1 || useradd --system --home /var/lib/hedgerow ${groups:+--groups "${groups%,}"} hedgerow
fi
release_id=$(tree_id "$src")
build_release "$src" "$app" "$release_id"
if [ -n "$given_config" ]; then install_given_config "$given_config" "$root/etc/hedgerow/$role_config"; fi
if [ "$role" = cloud ]; then write_cloud_config "$root/etc/hedgerow/cloud.yaml" "$api_port" "$storage"; fi
# `hedgerow` on the PATH: the running release with this role's config, unless --config is given.
launcher="$root/usr/local/bin/hedgerow"
launcher_text="#!/bin/sh
# Written by deploy.sh install: hedgerow from the running release, with /etc/hedgerow/$role_config unless --config is given.
case \" \$* \" in *' --config '*|*' --config='*) exec /usr/bin/node /opt/hedgerow/current/bin/hedgerow.js \"\$@\" ;; esac
exec /usr/bin/node /opt/hedgerow/current/bin/hedgerow.js --config /etc/hedgerow/$role_config \"\$@\""
if [ "$(cat "$launcher" 2>/dev/null)" != "$launcher_text" ]; then
  mkdir -p "$(dirname "$launcher")"; printf '%s\n' "$launcher_text" > "$launcher"; chmod 0755 "$launcher"; say "wrote $launcher"
fi

# 4. config and service. `units` (set above for the role; default the station) names the units to enable.
# The museum box on a station's Pi runs inside hedgerow-station.service (museum.enabled: true): one process
# per outbox; hedgerow-museum.service is for a Pi that is only a box.
read -ra unit_list <<< "${units:-hedgerow-station.service}"
with_museum=0
case " ${unit_list[*]} " in *' hedgerow-station.service '*)
  for i in "${!unit_list[@]}"; do
    if [ "${unit_list[$i]}" = hedgerow-museum.service ]; then unset 'unit_list[i]'; with_museum=1; fi
  done ;;
esac
units="${unit_list[*]}"
etc="$root/etc/hedgerow"
mkdir -p "$etc" "$root/var/lib/hedgerow"
case " $units " in *' hedgerow-station.service '*|*' hedgerow-museum.service '*)
  if [ ! -f "$etc/hedgerow.yaml" ]; then
    {
      echo "# Hedgerow station config: every key has a default; see the README's config reference."
      echo "dataDir: /var/lib/hedgerow"
      echo "station:"
      [ -n "$station_id" ] && echo "  id: $station_id"
      echo "  build: $build"
      echo "  interval: 5m"
      echo "hardware:"
      echo "  mode: real"
      if [ "$with_museum" = 1 ]; then echo "museum:"; echo "  enabled: true"; fi
    } > "$etc/hedgerow.yaml"
    say "wrote $etc/hedgerow.yaml"
  else
    say "kept existing $etc/hedgerow.yaml"
    if [ "$with_museum" = 1 ] && ! grep -qE '^museum:' "$etc/hedgerow.yaml"; then
      say "the station runs the museum box only with 'museum: {enabled: true}' in $etc/hedgerow.yaml: add it"
    fi
  fi ;;
esac
# The units from deploy/units/, with node's flags filled in; written only when they differ, so a second run
# changes nothing. The drop-in hedgerow-.service.d/ hardens every hedgerow-*.service (systemd 250+).
systemd_dir="$root/etc/systemd/system"
units_changed=0
install_unit() {
  local from=$1 to=$2 text
  text=$(sed -e "s|@NODE_FLAGS@|$node_flags|g" -e "s|@NODE_OPTIONS@|$node_options|g" "$from")
  if [ -f "$to" ] && [ "$(cat "$to")" = "$text" ]; then return 0; fi
  mkdir -p "$(dirname "$to")"
  printf '%s\n' "$text" > "$to.new" && mv -f "$to.new" "$to"
  units_changed=1
  say "wrote $to"
}
install_unit "$src/deploy/units/hedgerow-.service.d/hardening.conf" "$systemd_dir/hedgerow-.service.d/hardening.conf"
for unit in $units; do
  [ -f "$src/deploy/units/$unit" ] || die 1 "no unit template deploy/units/$unit in $src"
  install_unit "$src/deploy/units/$unit" "$systemd_dir/$unit"
done
# An install before these units had one hedgerow.service: it would start a second station on the same outbox.
old_unit="$systemd_dir/hedgerow.service"
if [ -f "$old_unit" ]; then
  if real; then systemctl disable --now hedgerow.service >/dev/null 2>&1 || true; fi
  rm -f "$old_unit" "$systemd_dir/multi-user.target.wants/hedgerow.service"
  units_changed=1
  say "removed the earlier $old_unit (now ${units// /, })"
fi

if real; then
  chown -R hedgerow: /var/lib/hedgerow
  if [ "$units_changed" = 1 ]; then systemctl daemon-reload; fi
  for unit in $units; do
    systemctl is-enabled --quiet "$unit" 2>/dev/null || { systemctl enable --quiet "$unit"; say "enabled $unit"; }
  done
  say "done: reboot (sudo reboot) to apply config.txt; ${units// /, } then start on every boot. Logs: journalctl -u 'hedgerow-*' -f"
fi

# 5. switch to the new release, restart, check; back to the previous one if the check fails.
switch_release "$app" "$release_id"
if real; then restart_and_check "$app" "$release_id"; fi
