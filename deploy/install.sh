#!/usr/bin/env bash
# deploy.sh install: on the Pi itself, as root, install Hedgerow from this copy and enable it on boot.
#
#   sudo ./deploy.sh install [--build bme280|weather-hat] [--station-id ID] [--dry-run]
#
# `deploy.sh sdcard` runs this at first boot, and `deploy.sh pi` runs it over SSH.
#
# What it does, each step idempotent (running it twice changes nothing the second time):
#   1. enables I²C, the 1-Wire ground probe and the GPIO pull-ups for the anemometer and rain gauge
#      in config.txt (and the PCF8523 RTC overlay for the Oracle Weather HAT);
#   2. installs Node.js 20 or newer (Debian's on Trixie; NodeSource's on Bookworm, which ships 18),
#      the build tools for the native modules, and the audio / PC/SC packages;
#   3. copies the code to /opt/hedgerow and runs `npm ci --omit=dev` there, which also builds the
#      plain-JavaScript bundle in dist/ that the service runs (no tsx loader: less memory);
#   4. writes /etc/hedgerow/hedgerow.yaml (kept if it exists) and the systemd units of deploy/units/
#      (hedgerow-station.service; Type=notify with a watchdog, hardened, running as user hedgerow), and
#      removes the hedgerow.service of an earlier install;
#   5. enables the units; a reboot applies the config.txt changes and starts the station.
#
# HEDGEROW_ROOT=/some/dir runs every file step inside that folder and skips apt, npm and systemctl:
# that is how the test suite checks this script without a Pi.
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
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --station-id) station_id="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage "$0"; exit 0 ;;
    *) die 2 "install: unknown option $1 (see ./deploy.sh install --help)" ;;
  esac
done
case "$build" in auto|bme280|weather-hat) ;; *) echo "deploy.sh: --build must be auto, bme280 or weather-hat, not '$build'" >&2; exit 2 ;; esac
if [ -n "$station_id" ]; then check_station_id "$station_id"; fi

real() { [ -z "$root" ]; }

if real && [ "$(id -u)" != 0 ]; then echo "deploy.sh: run it as root: sudo $0 $*" >&2; exit 1; fi

# 1. config.txt: Bookworm and later keep it in /boot/firmware, older releases in /boot.
config_txt="$root/boot/firmware/config.txt"
[ -f "$config_txt" ] || config_txt="$root/boot/config.txt"
if [ ! -f "$config_txt" ]; then
  echo "deploy.sh: no config.txt in /boot/firmware or /boot: is this a Raspberry Pi OS image?" >&2; exit 1
fi
ensure_line() {
  grep -qxF "$1" "$config_txt" || { echo "$1" >> "$config_txt"; say "config.txt: added $1"; }
}
while read -r line; do ensure_line "$line"; done < <(pi_config_lines "$build")
modules="$root/etc/modules"
mkdir -p "$(dirname "$modules")"; touch "$modules"
grep -qxF 'i2c-dev' "$modules" || { echo 'i2c-dev' >> "$modules"; say "/etc/modules: added i2c-dev"; }

# 2. packages and Node.js
if real; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends ca-certificates curl git python3 make g++ i2c-tools \
    libpcsclite-dev pcscd mpg123 alsa-utils espeak-ng >/dev/null
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
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

# 3. the code
app="$root/opt/hedgerow"
mkdir -p "$app"
# dist/ is built on the Pi (by npm ci's prepare script), never copied: a build matches only the sources beside it.
tar -C "$src" --exclude=node_modules --exclude=dist --exclude=data --exclude=.git -cf - . | tar -C "$app" -xf -
if real; then
  id hedgerow >/dev/null 2>&1 || useradd --system --home /var/lib/hedgerow --groups i2c,gpio,audio hedgerow
  # HEDGEROW_TEST_NODE_MODULES=DIR is for the tests under systemd only (test/deploy/systemd.test.ts): it links
  # that folder, the host's modules built for this Node, instead of npm ci, which would take minutes.
  if [ -n "${HEDGEROW_TEST_NODE_MODULES:-}" ]; then ln -sfn "$HEDGEROW_TEST_NODE_MODULES" "$app/node_modules"; else (cd "$app" && npm ci --omit=dev --no-audit --no-fund); fi
  # Built as root: the service's user cannot write /opt/hedgerow, so without a build it would run through tsx.
  # npm ci's prepare has built it already, unless scripts are turned off in npm's config; then this does.
  (cd "$app" && node bin/build.js)
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
