# shellcheck shell=bash
# deploy/release.sh: install.sh's releases: build one beside the running one, switch to it, check it, and go
# back to the previous one when the check fails. Sourced by deploy/install.sh, never run.
#
# Layout: /opt/hedgerow/releases/<id>/ holds one tree with its node_modules and dist/; /opt/hedgerow/current
# points at the one the units run. Data (/var/lib/hedgerow) and config (/etc/hedgerow) live outside, so
# switching releases never touches the outbox or the config.
#
# Uses install.sh's globals: root, real, role, role_config, units, app, api_port, health_timeout.
# shellcheck disable=SC2154

# The newest releases kept on disk (the running one and the one before it are always among them).
KEEP_RELEASES=3
# A release's marker: written last, so a half-built release (power cut, full disk) is never run.
RELEASE_MARK=.hedgerow-release

previous_release=''
config_changed=0
config_backup=''

# tree_id SRC: version and a hash of every file install copies: the same tree gives the same id.
tree_id() {
  local src=$1 version hash prune=()
  local name
  for name in "${TREE_SKIP[@]}"; do prune+=(-name "$name" -o); done
  version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$src/package.json" | head -1)
  hash=$(cd "$src" && find . \( "${prune[@]}" -false \) -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
  echo "${version:-0}-$hash"
}

current_release() {
  local link
  link=$(readlink "$1/current" 2>/dev/null) || return 0
  basename "$link"
}

# The install before releases (code straight in /opt/hedgerow) becomes the release "legacy", so an upgrade
# from it can roll back to it.
adopt_flat_install() {
  local app=$1
  [ -f "$app/package.json" ] && [ ! -e "$app/current" ] || return 0
  mkdir -p "$app/releases/legacy"
  find "$app" -mindepth 1 -maxdepth 1 ! -name releases -exec mv -t "$app/releases/legacy" {} +
  touch "$app/releases/legacy/$RELEASE_MARK"
  ln -sfn releases/legacy "$app/current"
  say "moved the earlier install in $app to $app/releases/legacy"
}

# deps_key DIR: what node_modules depends on: the lock file, and the Node.js ABI and CPU the modules were built for.
deps_key() {
  { cat "$1/package-lock.json"; node -p 'process.versions.modules + " " + process.arch' 2>/dev/null; } | sha256sum | cut -c1-16
}

# build_release SRC APP ID: the release ID, built unless it exists. Sets previous_release.
build_release() {
  local src=$1 app=$2 id=$3
  local target="$app/releases/$id" partial="$app/releases/$id.partial"
  mkdir -p "$app/releases"
  adopt_flat_install "$app"
  previous_release=$(current_release "$app")
  if [ -f "$target/$RELEASE_MARK" ]; then say "release $id is already built"; return 0; fi
  rm -rf "$partial" "$target"
  mkdir -p "$partial"
  # dist/ is built here, never copied: a build matches only the sources beside it.
  tar -C "$src" "${TREE_EXCLUDES[@]}" -cf - . | tar -C "$partial" -xf -
  # tar gives the release the copied folder's mode, 0700 for a mktemp checkout: the service's user must
  # read it (systemd's CHDIR into it fails otherwise).
  chmod 0755 "$partial"; chmod -R go+rX "$partial"
  if real; then
    local key old="$app/releases/$previous_release"
    key=$(deps_key "$partial")
    if [ -n "${HEDGEROW_TEST_NODE_MODULES:-}" ]; then
      # For the tests under systemd only (test/deploy/systemd.test.ts): the host's modules, built for this
      # Node, linked instead of npm ci, which would take minutes in each test machine.
      ln -sfn "$HEDGEROW_TEST_NODE_MODULES" "$partial/node_modules"
    elif [ -n "$previous_release" ] && [ -d "$old/node_modules" ] && [ "$(cat "$old/.hedgerow-deps" 2>/dev/null)" = "$key" ]; then
      # Same lock file, same Node: the previous release's modules are these (native builds take minutes on a Pi).
      say "package-lock.json unchanged: reusing the modules of release $previous_release"
      cp -a "$old/node_modules" "$partial/"
    else
      local cache=()
      if [ -n "${HEDGEROW_NPM_CACHE:-}" ]; then cache=(--offline --cache "$HEDGEROW_NPM_CACHE"); fi
      # node-gyp builds against the installed Node's headers (Debian's and NodeSource's packages have them)
      # rather than downloading them: a Pi without Internet builds too.
      if [ -f /usr/include/node/node_api.h ] && [ -z "${npm_config_nodedir:-}" ]; then export npm_config_nodedir=/usr; fi
      say "npm ci --omit=dev in release $id (builds the native modules: minutes on a Pi)"
      (cd "$partial" && npm ci --omit=dev --no-audit --no-fund "${cache[@]}")
    fi
    echo "$key" > "$partial/.hedgerow-deps"
    # Built as root: the service's user cannot write the release, so without a build it would run through tsx.
    (cd "$partial" && node bin/build.js --quiet >/dev/null)
  fi
  echo "$id" > "$partial/$RELEASE_MARK"
  mv "$partial" "$target"
  say "built release $id"
}

# switch_release APP ID: point current at releases/ID in one rename, so it is never missing.
switch_release() {
  local app=$1 id=$2
  [ "$(current_release "$app")" = "$id" ] && return 0
  ln -sfn "releases/$id" "$app/current.new"
  mv -T "$app/current.new" "$app/current"
  touch "$app/releases/$id"
  say "current -> releases/$id${previous_release:+ (was $previous_release)}"
}

# install_given_config FILE DEST: --config replaces the installed config, keeping the old one for a rollback.
install_given_config() {
  local file=$1 dest=$2
  if cmp -s "$file" "$dest"; then say "config unchanged: $dest"; return 0; fi
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ]; then cp -p "$dest" "$dest.previous"; config_backup="$dest.previous"; fi
  install -m 0640 "$file" "$dest"
  # It may hold the broker password: readable by the service's group only.
  if real; then chgrp hedgerow "$dest"; fi
  config_changed=1
  say "installed $dest from $file${config_backup:+ (the old one is $config_backup)}"
}

write_cloud_config() {
  local dest=$1 port=$2 storage=${3:-sqlite} mode=0644 storage_line=''
  if [ -f "$dest" ]; then say "kept existing $dest"; return 0; fi
  if [ "$storage" != sqlite ]; then
    storage_line="  # PostgreSQL, shared by every engine worker (README: several engines on PostgreSQL)
  storage: '$storage'"
    # A password in the URL: the file is the service's to read, nobody else's.
    if [ "$(mask_url "$storage")" != "$storage" ]; then mode=0640; fi
  fi
  write_file "$dest" "$mode" <<YAML
# Hedgerow engine config (deploy.sh cloud): every key has a default; see the README's config reference.
cloud:
  # the engine's SQLite files, dataset content and its API keys (api-credentials.json, made at first start)
  dataDir: /var/lib/hedgerow/cloud
$storage_line
api:
  # the farmers' weather page and the IoT Analytics API (SigV4: it needs the keys)
  host: 0.0.0.0
  port: $port
YAML
  if real && [ "$mode" = 0640 ]; then run chgrp hedgerow "$dest"; fi
  say "wrote $dest"
}

# The units block 4 installed: this role's, or the single hedgerow.service of installs before them.
installed_units() {
  local unit found=''
  for unit in $units; do
    if [ -f "$root/etc/systemd/system/$unit" ]; then found="$found $unit"; fi
  done
  if [ -z "$found" ] && [ -f "$root/etc/systemd/system/hedgerow.service" ]; then found=hedgerow.service; fi
  echo "${found# }"
}

# What the station has ever recorded (queued + sent + dropped) per `hedgerow status`, run as the service's
# user so the SQLite files it may create stay the service's. 0 when there is no outbox yet.
record_total() {
  local out queued sent_dropped
  out=$(cd "$app/current" && runuser -u hedgerow -- node bin/hedgerow.js --config "/etc/hedgerow/$role_config" status 2>/dev/null) || { echo 0; return 0; }
  queued=$(sed -n 's/.*: \([0-9]*\) records queued.*/\1/p' <<<"$out")
  sent_dropped=$(sed -n 's/^sent \([0-9]*\) records.*dropped \([0-9]*\).*/\1 + \2/p' <<<"$out")
  echo $(( ${queued:-0} + ${sent_dropped:-0} ))
}

engine_answers() {
  curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$api_port/" 2>/dev/null
}

# check_health UNIT...: restart the units; healthy once each is active and has not been restarted by
# systemd, a station has made a record since, and the engine answers on its port. Sets health_failure.
check_health() {
  local unit state n records0 now start deadline ok settle=5
  local -A restarts=()
  health_failure=''
  systemctl stop "$@"
  records0=$(record_total)
  systemctl start "$@" || true
  for unit in "$@"; do restarts[$unit]=$(systemctl show -p NRestarts --value "$unit"); done
  start=$(date +%s); deadline=$((start + health_timeout))
  while :; do
    ok=1
    for unit in "$@"; do
      state=$(systemctl is-active "$unit" || true)
      n=$(systemctl show -p NRestarts --value "$unit")
      if [ "$state" = failed ]; then health_failure="$unit failed"; return 1; fi
      if [ "$n" -gt "${restarts[$unit]}" ]; then health_failure="$unit exited and systemd restarted it"; return 1; fi
      [ "$state" = active ] || { ok=0; health_failure="$unit is $state"; continue; }
      case "$unit" in
        hedgerow-station.service|hedgerow.service)
          [ "$(record_total)" -gt "$records0" ] || { ok=0; health_failure="$unit made no record"; } ;;
        hedgerow-cloud.service)
          engine_answers || { ok=0; health_failure="the engine does not answer on http://127.0.0.1:$api_port/"; } ;;
      esac
    done
    now=$(date +%s)
    if [ "$ok" = 1 ] && [ $((now - start)) -ge "$settle" ]; then return 0; fi
    if [ "$now" -ge "$deadline" ]; then health_failure="$health_failure within $health_timeout s"; return 1; fi
    sleep 2
  done
}

# restart_and_check APP ID: nothing when ID already runs, healthy; else restart and check it, and on a
# failed check go back to the previous release.
restart_and_check() {
  local app=$1 id=$2 list logs
  list=$(installed_units)
  [ -n "$list" ] || die 1 "no unit to start: none of $units is installed in /etc/systemd/system"
  logs="journalctl -u ${list// / -u }"
  # shellcheck disable=SC2086 # the unit names are words
  if [ "$previous_release" = "$id" ] && [ "$config_changed" = 0 ] && [ "${units_changed:-0}" = 0 ] && systemctl is-active --quiet $list; then
    say "already up to date: $id (nothing changed, nothing restarted)"; return 0
  fi
  say "starting release $id: $list (health check: up to $health_timeout s)"
  # shellcheck disable=SC2086
  if check_health $list; then
    say "release $id is running and healthy"
    prune_releases "$app" "$id"
    if [ "$role" = cloud ]; then say "API keys: /var/lib/hedgerow/cloud/api-credentials.json (made at the engine's first start, kept across upgrades)"; fi
    return 0
  fi
  local failure=$health_failure back
  # What the failed release said, before a restart of the old one buries it in the journal.
  # shellcheck disable=SC2086
  journalctl -u ${list// / -u } -n 12 --no-pager -o cat 2>/dev/null | sed 's/^/  journal: /' >&2 || true
  if [ -z "$previous_release" ] || [ "$previous_release" = "$id" ]; then
    die 1 "release $id failed its health check: $failure. There is no earlier release to go back to; see $logs"
  fi
  say "release $id failed its health check ($failure): rolling back to $previous_release"
  ln -sfn "releases/$previous_release" "$app/current.new"
  mv -T "$app/current.new" "$app/current"
  if [ "$config_changed" = 1 ] && [ -n "$config_backup" ]; then mv -f "$config_backup" "${config_backup%.previous}"; say "restored the previous config"; fi
  # shellcheck disable=SC2086
  if check_health $list; then back="which runs again"; else back="which does not run either ($health_failure)"; fi
  rm -rf "${app:?}/releases/$id"
  die 1 "the upgrade to $id failed its health check ($failure); rolled back to release $previous_release, $back. Logs: $logs"
}

# prune_releases APP ID: keep the newest KEEP_RELEASES, always with the running one and the one before it.
prune_releases() {
  local app=$1 id=$2 name
  find "$app/releases" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %f\n' | sort -rn | cut -d' ' -f2 | tail -n +$((KEEP_RELEASES + 1)) |
    while read -r name; do
      if [ "$name" != "$id" ] && [ "$name" != "$previous_release" ]; then rm -rf "${app:?}/releases/$name"; say "removed old release $name"; fi
    done
}
