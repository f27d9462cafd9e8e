#!/usr/bin/env bash
# deploy.sh pi: install or upgrade Hedgerow on a running Raspberry Pi over SSH, from this checkout.
#
#   ./deploy.sh pi USER@HOST [--port P] [-i KEY] [-o SSH_OPTION]... [--build bme280|weather-hat]
#                  [--station-id ID] [--museum] [--config FILE] [--npm-cache DIR] [--health-timeout S]
#                  [--dry-run]
#
# It copies this repository to the Pi (tar over ssh, without node_modules, dist, data and .git) and runs
# `deploy.sh install` there with sudo (see ./deploy.sh install --help). USER must be able to sudo without a
# password, as Raspberry Pi OS's first user can. There it:
#   - installs what is missing of Node.js 20+, pcscd, mpg123, espeak-ng and i2c-tools, enables I²C and
#     1-Wire (raspi-config nonint) and, with --museum, blacklists pn533 for the ACR122U reader;
#   - builds a new release in /opt/hedgerow/releases/ (npm ci builds the native modules there), switches
#     /opt/hedgerow/current to it, restarts the units and checks that the station records again; if not,
#     it switches back to the previous release and exits 1 saying what failed;
#   - keeps /var/lib/hedgerow (the outbox) and /etc/hedgerow (config, certificates) as they are.
# Run it again with the same checkout and it changes nothing and says "already up to date: <id>".
#
#   --port P, -i KEY, -o OPT   how ssh reaches the Pi (port, private key, any other ssh option)
#   --build, --station-id      as for deploy.sh install (a new config only; an existing one is kept)
#   --museum                   the museum box too (its unit, pcscd, the ACR122U blacklist)
#   --config FILE              install FILE as /etc/hedgerow/hedgerow.yaml (the old one is kept as .previous)
#   --npm-cache DIR            an npm cache folder on the Pi: npm ci runs --offline on it (no Internet there)
#   --health-timeout S         how long the new release has to make a record (default 420: one 5 min interval)
#   --dry-run                  print the ssh and tar commands, run nothing
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=deploy/lib.sh
. "$repo/deploy/lib.sh"
# shellcheck source=deploy/ssh.sh
. "$repo/deploy/ssh.sh"

install_args=()
npm_cache=''
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage "$0"; exit 0 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --museum) install_args+=(--museum); shift ;;
    --port|-i|-o|--build|--station-id|--config|--npm-cache|--health-timeout|--aws-thing-dir)
      [ $# -ge 2 ] || die 2 "pi: $1 needs a value (see ./deploy.sh pi --help)"
      if ssh_option "$1" "$2"; then shift 2; continue; fi
      case "$1" in
        --build) case "$2" in bme280|weather-hat|auto) ;; *) die 2 "--build must be auto, bme280 or weather-hat, not '$2'" ;; esac
          install_args+=(--build "$2") ;;
        --station-id) check_station_id "$2"; install_args+=(--station-id "$2") ;;
        --config) [ -f "$2" ] || die 2 "--config: no file $2"; EXTRA_FILES[hedgerow.yaml]=$2; install_args+=(--config @STAGE@/hedgerow.yaml) ;;
        --npm-cache) npm_cache=$2 ;;
        --health-timeout) [[ "$2" =~ ^[0-9]+$ ]] || die 2 "--health-timeout must be whole seconds, not '$2'"; install_args+=(--health-timeout "$2") ;;
        --aws-thing-dir) die 2 "--aws-thing-dir is not supported by deploy.sh pi yet: put the folder's uplink settings in a config file and give it with --config, and copy its certificate files to /etc/hedgerow on the Pi" ;;
      esac
      shift 2 ;;
    -*) die 2 "pi: unknown option $1 (see ./deploy.sh pi --help)" ;;
    *) [ -z "$ssh_target" ] || die 2 "pi: one USER@HOST only (got '$ssh_target' and '$1')"; set_target "$1"; shift ;;
  esac
done
[ -n "$ssh_target" ] || die 2 "pi: say which Pi: ./deploy.sh pi USER@HOST, e.g. pi@raspberrypi.local (see ./deploy.sh pi --help)"

check_reachable
if [ -n "$npm_cache" ]; then install_args=(--npm-cache "$npm_cache" "${install_args[@]}"); fi
say "installing on $ssh_target"
install_over_ssh "$repo" --role station "${install_args[@]}"
dry || say "done: $ssh_target runs the station (logs: ssh $ssh_target journalctl -u 'hedgerow*' -f)"
