# shellcheck shell=bash
# deploy/lib.sh: what every deploy subcommand shares. Sourced, never run.
#
# DRY_RUN=1 (set by --dry-run) makes `run` and `write_file` print what they would do and do nothing,
# so `deploy.sh SUB --dry-run` shows every action a real run would take, in order.

say() { echo "deploy: $*"; }
# die CODE MESSAGE: a user error (2: bad option, 1: the machine is not as needed) with what to do next.
die() { local code=$1; shift; echo "deploy.sh: $*" >&2; exit "$code"; }

DRY_RUN="${DRY_RUN:-0}"
dry() { [ "$DRY_RUN" = 1 ]; }

# run CMD ARGS...: run a command, or under --dry-run print it, shell-quoted, so it can be pasted.
run() {
  if dry; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

# write_file PATH MODE < content: write a file atomically (temp file beside it, then rename), or under
# --dry-run print its path, mode and content.
write_file() {
  local path=$1 mode=$2
  if dry; then
    echo "+ write $path (mode $mode):"; sed 's/^/|   /'; return 0
  fi
  mkdir -p "$(dirname "$path")"
  local tmp; tmp=$(mktemp "$path.XXXXXX")
  cat > "$tmp"; chmod "$mode" "$tmp"; mv -f "$tmp" "$path"
}

# A station id becomes an MQTT topic level, a hostname and a broker login: one rule for all three.
STATION_ID_RE='^[A-Za-z0-9_-]{1,64}$'
check_station_id() {
  [[ "$1" =~ $STATION_ID_RE ]] || die 2 "--station-id must be 1-64 letters, digits, '-' or '_' (it becomes an MQTT topic level), not '$1'"
}

# usage FILE: print the comment block at the top of a subcommand's script (after the shebang), as its --help.
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$1"; }

# pi_config_lines BUILD: the config.txt lines a station needs, one a line: I²C, the 1-Wire ground probe on
# BCM 4, the internal pull-ups for the anemometer (BCM 5) and rain gauge (BCM 6), which switch to ground,
# and the Weather HAT's RTC. install.sh (on the Pi) and sdcard.sh (on the laptop) both add them: one list,
# so what sdcard.sh puts under [all] is what install.sh finds there at first boot.
pi_config_lines() {
  printf '%s\n' 'dtparam=i2c_arm=on' 'dtoverlay=w1-gpio,gpiopin=4' 'gpio=5,6=ip,pu'
  if [ "${1:-}" = weather-hat ]; then echo 'dtoverlay=i2c-rtc,pcf8523'; fi
}

# What a copy of the repository leaves out (deploy.sh pi / cloud over ssh, and install.sh's releases): what
# npm ci and the build make on the target, data, and git's history. One list for both, so the release id
# (a hash of the copied files) is the hash of what was copied.
TREE_SKIP=(node_modules dist data .git)
TREE_EXCLUDES=()
for _skip in "${TREE_SKIP[@]}"; do TREE_EXCLUDES+=("--exclude=$_skip"); done
unset _skip

# check_storage VALUE: where the engine keeps its data (cloud.storage): sqlite, or a PostgreSQL URL. One rule
# for deploy.sh cloud (on the laptop) and install.sh (on the machine).
check_storage() {
  case "$1" in
    sqlite|postgres://?*|postgresql://?*) ;;
    *) die 2 "--storage must be sqlite or a PostgreSQL URL such as postgres://hedgerow@db.school/hedgerow, not '$(mask_url "$1")'" ;;
  esac
}

# mask_url TEXT: a URL's password as ***, for messages and --dry-run (scheme://user:***@host/...).
mask_url() { sed -E 's#^([a-z][a-z0-9+.-]*://[^:/@]*:)[^@]*@#\1***@#' <<<"$1"; }
