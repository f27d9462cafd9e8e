#!/usr/bin/env bash
# deploy.sh cloud: install or upgrade the engine (channels, pipelines, datasets, the farmers' weather page
# and the IoT Analytics API) as a service on a Debian or Raspberry Pi OS machine, over SSH.
#
#   ./deploy.sh cloud USER@HOST [--port P] [-i KEY] [-o SSH_OPTION]... [--storage sqlite|URL] [--api-port N]
#                     [--npm-cache DIR] [--health-timeout S] [--dry-run]
#
# It copies this repository there (tar over ssh) and runs `deploy.sh install --role cloud` with sudo: Node.js
# 20+ and the build tools if missing, a release in /opt/hedgerow/releases/ (switched, checked and rolled
# back like deploy.sh pi's), the config /etc/hedgerow/cloud.yaml (written once, then kept) and the data
# folder /var/lib/hedgerow/cloud. The engine makes its API keys there at its first start
# (api-credentials.json) and keeps them across upgrades; the last line says how to read them.
# The engine reads the stations' records from an MQTT broker on that machine (cloud.mqtt.url, default
# mqtt://127.0.0.1:1883): mosquitto, or `hedgerow broker`.
#
#   --port P, -i KEY, -o OPT   how ssh reaches the machine (port, private key, any other ssh option)
#   --storage sqlite|URL       where the engine keeps its data: SQLite files in the data folder (default), or
#                              a PostgreSQL database shared by several engines, e.g.
#                              postgres://hedgerow@db.school:5432/hedgerow (written to cloud.yaml as
#                              cloud.storage, which is kept on upgrades). Leave the password out of the
#                              URL and put it in ~hedgerow/.pgpass (mode 0600) there; with a password in
#                              the URL, cloud.yaml is made readable by the service only.
#   --api-port N               the port of the weather page and the API (default 8780)
#   --npm-cache DIR            an npm cache folder there: npm ci runs --offline on it
#   --health-timeout S         how long the new release has to answer on its port (default 420)
#   --dry-run                  print the ssh and tar commands, run nothing
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=deploy/lib.sh
. "$repo/deploy/lib.sh"
# shellcheck source=deploy/ssh.sh
. "$repo/deploy/ssh.sh"

install_args=()
api_port=8780
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage "$0"; exit 0 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --port|-i|-o|--storage|--api-port|--npm-cache|--health-timeout)
      [ $# -ge 2 ] || die 2 "cloud: $1 needs a value (see ./deploy.sh cloud --help)"
      if ssh_option "$1" "$2"; then shift 2; continue; fi
      case "$1" in
        --storage) check_storage "$2"; install_args+=(--storage "$2") ;;
        --api-port)
          if ! [[ "$2" =~ ^[0-9]{1,5}$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then die 2 "--api-port must be a port number (1-65535), not '$2'"; fi
          api_port=$2; install_args+=(--api-port "$2") ;;
        --npm-cache) install_args+=(--npm-cache "$2") ;;
        --health-timeout) [[ "$2" =~ ^[0-9]+$ ]] || die 2 "--health-timeout must be whole seconds, not '$2'"; install_args+=(--health-timeout "$2") ;;
      esac
      shift 2 ;;
    -*) die 2 "cloud: unknown option $1 (see ./deploy.sh cloud --help)" ;;
    *) [ -z "$ssh_target" ] || die 2 "cloud: one USER@HOST only (got '$ssh_target' and '$1')"; set_target "$1"; shift ;;
  esac
done
[ -n "$ssh_target" ] || die 2 "cloud: say which machine: ./deploy.sh cloud USER@HOST (see ./deploy.sh cloud --help)"

check_reachable
say "installing the engine on $ssh_target"
install_over_ssh "$repo" --role cloud "${install_args[@]}"
dry || say "done: the weather page is http://${ssh_target#*@}:$api_port/ ; the API keys: ssh $ssh_target sudo cat /var/lib/hedgerow/cloud/api-credentials.json"
