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
#   4. writes /etc/hedgerow/hedgerow.yaml (kept if it exists) and a systemd unit running as user hedgerow;
#   5. enables the unit; a reboot applies the config.txt changes and starts the station.
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
  (cd "$app" && npm ci --omit=dev --no-audit --no-fund)
  # Built as root: the service's user cannot write /opt/hedgerow, so without a build it would run through tsx.
  # npm ci's prepare has built it already, unless scripts are turned off in npm's config; then this does.
  (cd "$app" && node bin/build.js)
fi

# 4. config and service
etc="$root/etc/hedgerow"
mkdir -p "$etc" "$root/var/lib/hedgerow"
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
  } > "$etc/hedgerow.yaml"
  say "wrote $etc/hedgerow.yaml"
else
  say "kept existing $etc/hedgerow.yaml"
fi
unit="$root/etc/systemd/system/hedgerow.service"
mkdir -p "$(dirname "$unit")"
cat > "$unit" <<UNIT
[Unit]
Description=Hedgerow weather station
After=network-online.target time-sync.target
Wants=network-online.target

[Service]
Type=simple
User=hedgerow
WorkingDirectory=/opt/hedgerow
# hedgerow.js runs the build in /opt/hedgerow/dist/ (plain JavaScript) when it matches the sources there,
# else the sources through tsx, saying so in the journal with the fix (npm run build as root).
ExecStart=/usr/bin/node $node_flags /opt/hedgerow/bin/hedgerow.js --config /etc/hedgerow/hedgerow.yaml station
Restart=always
RestartSec=5
# A capped heap keeps a long backlog drain from growing V8's heap to ~130 MB on a 512 MB Pi Zero.
Environment=NODE_OPTIONS="$node_options"
# The outbox is a SQLite file: give it time to close cleanly on shutdown.
TimeoutStopSec=20
StateDirectory=hedgerow

[Install]
WantedBy=multi-user.target
UNIT
say "wrote $unit"

if real; then
  chown -R hedgerow: /var/lib/hedgerow
  systemctl daemon-reload
  systemctl enable hedgerow.service
  say "done: reboot (sudo reboot) to apply config.txt; the station then starts on every boot. Logs: journalctl -u hedgerow -f"
fi
