#!/usr/bin/env bash
# deploy.sh: from a freshly flashed SD card to a Hedgerow station that starts on boot.
#
#   ./deploy.sh SUBCOMMAND [options]       ./deploy.sh SUBCOMMAND --help
#
# Subcommands (each in deploy/<name>.sh):
#   sdcard BOOT_MOUNT  prepare a freshly flashed Raspberry Pi OS boot partition; the Pi sets itself up on first boot
#   pi USER@HOST       install or upgrade Hedgerow on a running Pi over SSH
#   cloud USER@HOST    install the engine (channels, datasets, the farmers' page) as a service
#   aws --thing NAME   provision a station in AWS IoT Core (thing, certificate, least-privilege policy)
#   install            on the Pi itself, as root: what sdcard's first boot and pi run there
#
# Every subcommand takes --dry-run, which prints each action (commands, files and their content) and does
# nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sub="${1:-}"
case "$sub" in
  sdcard|pi|cloud|aws|install) shift; exec bash "$here/deploy/$sub.sh" "$@" ;;
  -h|--help|help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  '') echo "deploy.sh: say what to do: sdcard, pi, cloud, aws or install (see ./deploy.sh --help)" >&2; exit 2 ;;
  -*) echo "deploy.sh: options come after the subcommand: ./deploy.sh install $* (see ./deploy.sh --help)" >&2; exit 2 ;;
  *) echo "deploy.sh: unknown subcommand '$sub': use sdcard, pi, cloud, aws or install (see ./deploy.sh --help)" >&2; exit 2 ;;
esac
