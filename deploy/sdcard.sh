#!/usr/bin/env bash
# deploy.sh sdcard: on your laptop, prepare a freshly flashed Raspberry Pi OS card, so the Pi sets itself
# up as a Hedgerow station on its first boot.
#
#   ./deploy.sh sdcard BOOT_MOUNT --station-id ID [--build bme280|weather-hat] [--museum]
#       [--wifi SSID --wifi-pass-file FILE --wifi-country CC] [--uplink URL | --aws-thing-dir DIR]
#       [--bundle] [--dry-run]
#
# BOOT_MOUNT is the card's boot partition (bootfs) as the laptop mounted it, e.g. /media/$USER/bootfs.
# Flash the card with Raspberry Pi Imager first; what you set there (user, Wi-Fi, SSH, locale) is kept.
# The layout is read from the card:
#   Trixie (images from October 2025): cloud-init. user-data is merged, never replaced: its keys stay,
#     Hedgerow's step is added to runcmd; a user-data that is not #cloud-config is refused, with the reason.
#   Bookworm: firstrun.sh, started from cmdline.txt. Imager's own firstrun.sh is kept and runs first.
#
# What it puts on the card (a second run changes nothing, and says so):
#   config.txt  I²C, the 1-Wire probe, the GPIO pull-ups (and the Weather HAT's RTC), once each, under [all];
#   hedgerow/   the station config, certificates, a copy of this repository and firstboot.sh, which at first
#               boot moves the secrets to /etc/hedgerow (mode 0600), installs Hedgerow and starts it. It
#               logs to hedgerow-firstboot.log on the card.
#
#   --wifi SSID --wifi-pass-file FILE --wifi-country CC  the Wi-Fi network; FILE holds the passphrase on
#       one line. Only its hashed key goes on the card; the passphrase is never printed.
#   --uplink mqtt(s)://HOST[:PORT]  the school's broker. The station logs in as its id with a new random
#       password, printed once here with the lines for the engine's operator, and kept only in the
#       station config (on the card, then in /etc/hedgerow on the Pi); no log has it. A second run keeps it.
#   --aws-thing-dir DIR  AWS IoT Core, from what `./deploy.sh aws` wrote: DIR/uplink.yaml (the uplink
#       section), cert.pem, key.pem and ca.pem.
#   --museum  the museum box too (passed to deploy.sh install).
#   --bundle  an npm cache on the card too, so first boot installs Hedgerow's packages without internet
#       (apt packages, and Node.js on Bookworm, still need it).
#   --dry-run  print each change (files and their content, secrets left out) and make none.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=deploy/lib.sh
. "$src/deploy/lib.sh"

boot='' station_id='' build=auto museum=0 bundle=0 ssid='' pass_file='' country='' uplink='' aws_dir=''
while [ $# -gt 0 ]; do
  case "$1" in
    --station-id|--build|--wifi|--wifi-pass-file|--wifi-country|--uplink|--aws-thing-dir)
      [ $# -ge 2 ] || die 2 "sdcard: $1 needs a value (see ./deploy.sh sdcard --help)" ;;
  esac
  case "$1" in
    --station-id) station_id="${2:-}"; shift 2 ;;
    --build) build="${2:-}"; shift 2 ;;
    --museum) museum=1; shift ;;
    --wifi) ssid="${2:-}"; shift 2 ;;
    --wifi-pass-file) pass_file="${2:-}"; shift 2 ;;
    --wifi-country) country="${2:-}"; shift 2 ;;
    --uplink) uplink="${2:-}"; shift 2 ;;
    --aws-thing-dir) aws_dir="${2:-}"; shift 2 ;;
    --bundle) bundle=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage "$0"; exit 0 ;;
    -*) die 2 "sdcard: unknown option $1 (see ./deploy.sh sdcard --help)" ;;
    *) [ -z "$boot" ] || die 2 "sdcard: one BOOT_MOUNT only, not also '$1'"; boot="$1"; shift ;;
  esac
done
[ -n "$boot" ] || die 2 "sdcard: say where the card's boot partition is mounted: ./deploy.sh sdcard /media/\$USER/bootfs --station-id ID"
[ -n "$station_id" ] || die 2 "sdcard: --station-id is needed: it is the station's name in every record, its hostname and its broker login"
check_station_id "$station_id"
case "$build" in auto|bme280|weather-hat) ;; *) die 2 "--build must be auto, bme280 or weather-hat, not '$build'" ;; esac
[ -z "$uplink" ] || [ -z "$aws_dir" ] || die 2 "sdcard: give --uplink (a school broker) or --aws-thing-dir (AWS IoT Core), not both"
if [ -n "$ssid$pass_file$country" ]; then
  { [ -n "$ssid" ] && [ -n "$pass_file" ] && [ -n "$country" ]; } || die 2 "sdcard: Wi-Fi needs all three: --wifi SSID --wifi-pass-file FILE --wifi-country CC (e.g. GB)"
  [ -r "$pass_file" ] || die 2 "sdcard: cannot read --wifi-pass-file $pass_file: put the passphrase in it, on one line"
fi
[ -z "$aws_dir" ] || [ -d "$aws_dir" ] || die 2 "sdcard: --aws-thing-dir $aws_dir is not a folder: give the one ./deploy.sh aws wrote"

[ -d "$boot" ] || die 1 "sdcard: $boot is not a folder: mount the card's boot partition (bootfs) and give its path"
[ -f "$boot/config.txt" ] || die 1 "sdcard: $boot has no config.txt: is it the boot partition (bootfs) of a card flashed with Raspberry Pi OS?"
if [ -e "$boot/user-data" ] || [ -e "$boot/meta-data" ] || [ -e "$boot/network-config" ]; then layout=trixie
elif [ -f "$boot/cmdline.txt" ]; then layout=bookworm
else die 1 "sdcard: $boot has neither cloud-init's files (user-data, meta-data, network-config: Trixie) nor cmdline.txt (Bookworm): flash it again with Raspberry Pi Imager and Raspberry Pi OS Lite"
fi
say "card at $boot: Raspberry Pi OS $layout layout ($([ $layout = trixie ] && echo cloud-init || echo firstrun.sh))"

node_bin=${NODE:-node}
# cardfiles OUT COMMAND ARGS...: card-files.mjs into OUT; its refusal (exit 3, the reason on stderr) stops here,
# before anything is written from it.
cardfiles() {
  local out=$1; shift
  "$node_bin" "$src/deploy/sdcard/card-files.mjs" "$@" > "$out" || { [ $? = 3 ] && exit 1; exit 2; }
}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
changed=0

# put PATH MODE [secret] < content (never from a pipe: it counts what changed): write the card's file only when its content differs. FAT keeps no
# modes: MODE is what the file gets under --dry-run's listing, and a secret's content is not printed.
put() {
  local path=$1 mode=$2 secret=${3:-} new="$work/new"
  cat > "$new"
  if [ -f "$path" ] && cmp -s "$new" "$path"; then return 0; fi
  changed=$((changed + 1))
  if dry && [ -n "$secret" ]; then echo "+ write $path (mode $mode): $secret, not shown"; return 0; fi
  write_file "$path" "$mode" < "$new"
  dry || say "wrote ${path#"$boot"/}"
}

# 0. Everything that may refuse is worked out before the card is touched, so a refusal changes nothing.
card="$boot/hedgerow"
if [ $layout = trixie ]; then
  cardfiles "$work/user-data" user-data "$boot/user-data" --hostname "$station_id"
  if [ -n "$ssid" ]; then
    cardfiles "$work/network-config" network-config "$boot/network-config" --ssid "$ssid" --pass-file "$pass_file" --country "$country"
  fi
else
  if [ -n "$ssid" ]; then cardfiles "$work/wifi.env" wifi-env --ssid "$ssid" --pass-file "$pass_file" --country "$country"; fi
  cmdline=$(tr -d '\r\n' < "$boot/cmdline.txt")
  if [[ "$cmdline" =~ systemd\.run=([^ ]*) ]]; then
    run_path=${BASH_REMATCH[1]}
    [ "$(basename "$run_path")" = firstrun.sh ] || die 1 "sdcard: cmdline.txt already runs $run_path at first boot, which is neither Imager's firstrun.sh nor Hedgerow's: take it out of cmdline.txt (or run it from firstrun.sh), then run again"
  else
    printf '%s%s\n' "$cmdline" ' systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target' > "$work/cmdline.txt"
  fi
  imager_firstrun=0
  if [ -f "$boot/firstrun.sh" ] && ! grep -q '^# hedgerow-firstrun' "$boot/firstrun.sh"; then
    [ ! -e "$card/imager-firstrun.sh" ] || die 1 "sdcard: hedgerow/imager-firstrun.sh is on the card and so is another firstrun.sh: flash the card again"
    imager_firstrun=1
  fi
fi
config_args=(--id "$station_id" --build "$build" --existing "$card/hedgerow.yaml" --password-out "$work/password")
[ -z "$uplink" ] || config_args+=(--uplink "$uplink")
[ -z "$aws_dir" ] || config_args+=(--aws-dir "$aws_dir")
if dry; then config_args+=(--dry-run); fi
cardfiles "$work/station.yaml" station-config "${config_args[@]}"

# 1. config.txt: our lines apply to every board, so they belong before any [filter] or under [all].
config_has() {
  awk -v want="$1" 'BEGIN { all = 1 } { sub(/\r$/, "") } /^\[[^]]*\][[:space:]]*$/ { all = ($0 ~ /^\[all\]/); next }
    all && $0 == want { found = 1 } END { exit !found }' "$boot/config.txt"
}
config_lines() {
  local line missing=()
  while read -r line; do config_has "$line" || missing+=("$line"); done < <(pi_config_lines "$build")
  cat "$boot/config.txt"
  [ ${#missing[@]} -gt 0 ] || return 0
  [ -z "$(tail -c1 "$boot/config.txt")" ] || echo
  local last; last=$(grep -E '^\[[^]]*\][[:space:]]*$' "$boot/config.txt" | tail -n1 | tr -d '\r[:space:]' || true)
  if [ -n "$last" ] && [ "$last" != '[all]' ]; then echo '[all]'; fi
  printf '%s\n' "${missing[@]}"
}
config_lines > "$work/config.txt"
put "$boot/config.txt" 0644 < "$work/config.txt"

# 2. hedgerow/: the station's config and secrets (moved to /etc/hedgerow, mode 0600, at first boot).
if [ -n "$uplink" ]; then put "$card/hedgerow.yaml" 0600 "the station config with its broker password" < "$work/station.yaml"
else put "$card/hedgerow.yaml" 0600 < "$work/station.yaml"; fi
if [ -n "$aws_dir" ]; then
  cardfiles "$work/aws-sources" aws-sources --aws-dir "$aws_dir"
  while read -r pem from; do put "$card/aws/$pem" 0600 "$([ "$pem" = key.pem ] && echo 'the private key' || echo "$pem")" < "$from"; done < "$work/aws-sources"
fi
{
  echo "STATION_ID=$station_id"
  echo "BUILD=$build"
  echo "MUSEUM=$museum"
  # cloud-init sets the hostname from user-data; on Bookworm firstboot.sh does, unless Imager's firstrun.sh does.
  if [ $layout = bookworm ] && ! grep -qs set_hostname "$boot/firstrun.sh" "$card/imager-firstrun.sh"; then echo "HOSTNAME=$station_id"; fi
} > "$work/station.env"
put "$card/station.env" 0644 < "$work/station.env"
put "$card/firstboot.sh" 0755 < "$src/deploy/firstboot.sh"
put "$card/hedgerow-firstboot.service" 0644 < "$src/deploy/sdcard/hedgerow-firstboot.service"

# 3. the code: first boot installs from it. In a git checkout, the files git would commit (tracked, or new
# and not ignored), so no build, data, logs or test output go on the card; else as install.sh copies it.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$src" ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' file; do if [ "$file" != node_modules ] && [ -e "$src/$file" ]; then printf '%s\0' "$file"; fi; done \
    | tar -C "$src" --null -T - -cf "$work/src.tar"
else
  tar -C "$src" --exclude=node_modules --exclude=dist --exclude=data --exclude=.git -cf "$work/src.tar" .
fi
mkdir -p "$work/src" && tar -C "$work/src" -xf "$work/src.tar"
if ! diff -rq "$work/src" "$card/src" >/dev/null 2>&1; then
  changed=$((changed + 1))
  run rm -rf "$card/src"
  run mkdir -p "$card/src"
  run tar -C "$card/src" -xf "$work/src.tar"
  dry || say "copied Hedgerow ($(du -sh "$card/src" | cut -f1)) to hedgerow/src"
fi
if [ "$bundle" = 1 ] && [ ! -f "$card/npm-cache/.complete" ]; then
  # npm fills a cache while installing into a scratch copy: npm ci --offline on the Pi then needs no network.
  changed=$((changed + 1))
  run mkdir -p "$work/pack" "$card/npm-cache"
  run cp "$src/package.json" "$src/package-lock.json" "$work/pack/"
  run bash -c 'cd "$1" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --cache "$2"' _ "$work/pack" "$card/npm-cache"
  run touch "$card/npm-cache/.complete"
fi

# 4. the first-boot hook, in the form this layout runs.
if [ $layout = trixie ]; then
  put "$boot/user-data" 0644 < "$work/user-data"
  [ -z "$ssid" ] || put "$boot/network-config" 0644 "the network config with the Wi-Fi key" < "$work/network-config"
  # cloud-init runs user-data once per instance id: a card without meta-data gets one.
  if [ ! -f "$boot/meta-data" ]; then printf 'instance-id: hedgerow-%s\n' "$station_id" > "$work/meta-data"; put "$boot/meta-data" 0644 < "$work/meta-data"; fi
else
  [ -z "$ssid" ] || put "$card/wifi.env" 0600 "the Wi-Fi key" < "$work/wifi.env"
  [ ! -f "$work/cmdline.txt" ] || put "$boot/cmdline.txt" 0644 < "$work/cmdline.txt"
  if [ "$imager_firstrun" = 1 ]; then
    put "$card/imager-firstrun.sh" 0755 < "$boot/firstrun.sh"
    say "kept Imager's firstrun.sh (as hedgerow/imager-firstrun.sh): it runs first"
  fi
  put "$boot/firstrun.sh" 0755 < "$src/deploy/sdcard/firstrun.sh"
fi

# 5. the station's login on the school's broker: shown once, here, for the engine's operator.
if [ -s "$work/password" ]; then
  password=$(cat "$work/password")
  users_line=$(printf '%s' "$password" | "$node_bin" "$src/bin/hedgerow.js" broker hash-password --station "$station_id")
  cat <<EOF

Station $station_id logs in to $uplink as '$station_id' with this password, made now (it is on the card
until first boot, then only in /etc/hedgerow/hedgerow.yaml on the Pi, mode 0600). Give it to the
engine's operator, who adds ONE of these, then forget it:
  the embedded broker (hedgerow.yaml, under broker.users:):
    $users_line
  mosquitto (a line on the stdin of hedgerow broker mosquitto-files --dir /etc/mosquitto/hedgerow):
    $station_id:$password

EOF
elif [ -n "$uplink" ] && ! dry; then
  say "kept the station's broker password from the first run (the operator has it already)"
fi

if [ "$changed" = 0 ]; then say "nothing to change: the card is already prepared for $station_id"
elif dry; then say "dry run: $changed changes above, none made"
else say "done ($changed changes): eject the card, put it in the Pi and power it on. First boot takes 10-30 min; it logs to hedgerow-firstboot.log on the card"
fi
