#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian / Raspberry Pi OS machine:
# the real components the integration tests start (mosquitto, pcscd + vpcd, espeak-ng, players,
# chromium) and the npm packages (native modules build from source with node-gyp).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  mosquitto mosquitto-clients            # real MQTT broker for gateway tests
  pcscd vsmartcard-vpcd libpcsclite-dev  # real PC/SC stack + virtual reader for the museum box
  espeak-ng mpg123 alsa-utils sox        # text to speech, audio players on ALSA's null device
  ffmpeg                                 # the museum box's story trimming and loudness (silenceremove, loudnorm, ebur128)
  sqlite3 openssl curl                   # CLI checks of outbox files, test certificates, a second SigV4 client
  python3 make g++                       # node-gyp builds better-sqlite3, i2c-bus, epoll, pcsclite
  chromium fonts-dejavu-core             # headless browser for the weather page test (playwright-core)
  awscli python3-boto3                   # two more real IoT Analytics clients; botocore's service-2.json for the shape test
  iproute2 util-linux                    # ip + unshare: the npm start e2e test runs on its default ports in a private network namespace
  debootstrap systemd-container          # the stand-in Pi: a Debian root booted with a real systemd (test/deploy/helpers)
  shellcheck cloud-init                  # deploy.sh's scripts linted; the SD card's user-data checked by cloud-init's own schema
  openssh-client mtools dosfstools       # deploy.sh pi over SSH; a real FAT boot partition image
  postgresql                             # the cloud engine on PostgreSQL (test/cloud/helpers/postgres.ts starts its own cluster)
)

sudo=''
if [ "$(id -u)" != 0 ]; then sudo='sudo'; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# pcscd must not be left running as a system service: the tests start their own with vpcd.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet pcscd.socket 2>/dev/null; then
  $sudo systemctl stop pcscd.socket pcscd.service || true
fi

# The stand-in Pi's root is built (once per machine, ~3 minutes) while npm installs.
bash test/deploy/helpers/debian-root.sh > /dev/null &
root_build=$!

echo "setup: installing npm packages (npm ci)"
npm ci --no-audit --no-fund
wait "$root_build" || { echo "setup: the Debian root for the deploy tests could not be built (see above)" >&2; exit 1; }
