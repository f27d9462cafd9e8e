# shellcheck shell=bash
# deploy/ssh.sh: what `deploy.sh pi` and `deploy.sh cloud` share: reach USER@HOST over ssh, copy this
# repository there, and run `deploy.sh install` there with sudo. Sourced, never run.

ssh_args=(-o BatchMode=yes -o ConnectTimeout=15)
ssh_target=''

# ssh_option NAME VALUE: the ssh options both subcommands take; false for anything else.
ssh_option() {
  case "$1" in
    --port) [[ "$2" =~ ^[0-9]{1,5}$ ]] || die 2 "--port must be the SSH port number, not '$2'"; ssh_args+=(-p "$2") ;;
    -i) [ -f "$2" ] || die 2 "-i: no key file $2"; ssh_args+=(-i "$2") ;;
    -o) ssh_args+=(-o "$2") ;;
    *) return 1 ;;
  esac
}

set_target() {
  [[ "$1" =~ ^[A-Za-z0-9._-]+@[A-Za-z0-9.:_-]+$ ]] || die 2 "say where to install as USER@HOST (e.g. pi@raspberrypi.local), not '$1'"
  ssh_target=$1
}

# The remote command is built here on purpose: its parts are quoted with printf %q.
# shellcheck disable=SC2029
remote() { ssh "${ssh_args[@]}" "$ssh_target" "$@"; }

# check_reachable: one ssh round trip, so a wrong host, port or key is said plainly before anything is copied.
# A connection the Pi closes or resets, or one refused, is tried again for up to REACH_WAIT seconds: a Pi
# that has just booted (the first boot of a card regenerates its host keys and restarts sshd) answers a
# little later. A refused key or a wrong host name is said at once. ssh's INFO lines are kept for the
# message: "Connection closed by HOST" is INFO, so with the caller's -o LogLevel=ERROR ssh said nothing.
REACH_WAIT=${HEDGEROW_SSH_WAIT:-60}
check_reachable() {
  dry && { run ssh "${ssh_args[@]}" "$ssh_target" 'sudo -n true'; return 0; }
  local err rc waited=0
  while :; do
    rc=0
    err=$(ssh -o LogLevel=INFO "${ssh_args[@]}" "$ssh_target" 'sudo -n true' 2>&1 >/dev/null) || rc=$?
    err=$(printf '%s' "$err" | tr -d '\r' | grep -v '^Warning: Permanently added' | paste -sd ';' -) || true
    if [ "$rc" != 255 ] || [ "$waited" -ge "$REACH_WAIT" ] || ! transient_ssh_failure "$err"; then break; fi
    say "no SSH answer from $ssh_target yet (${err:-ssh said nothing}); trying again in 5 s"
    sleep 5; waited=$((waited + 5))
  done
  if [ "$rc" = 255 ]; then
    die 1 "cannot reach $ssh_target over SSH (ssh said: ${err:-nothing}). Check: the host name or address, that it is switched on and on this network, that SSH is enabled on it (sudo raspi-config, or deploy.sh sdcard), the port (--port), and your key (-i KEY; ssh-copy-id $ssh_target puts yours there)"
  elif [ "$rc" != 0 ]; then
    die 1 "${ssh_target%%@*} on ${ssh_target#*@} cannot use sudo without a password (${err:-sudo -n true failed}): give it that (Raspberry Pi OS's first user has it), or log in as such a user"
  fi
}

# transient_ssh_failure ERR: whether ssh's message is one a booting machine gives (try again), not a wrong key or name.
transient_ssh_failure() {
  case "$1" in
    *'Connection refused'* | *'Connection closed'* | *'Connection reset'* | *'timed out'* | '') return 0 ;;
    *) return 1 ;;
  esac
}

# install_over_ssh REPO INSTALL_ARGS...: copy REPO (without TREE_SKIP) to a fresh folder on the target,
# run its deploy.sh install with sudo, and remove the folder; exits with install's code.
# EXTRA_FILES (name in that folder -> local file) go beside the copy, where INSTALL_ARGS may name them
# as @STAGE@/<name>.
declare -A EXTRA_FILES=()
install_over_ssh() {
  local repo=$1; shift
  local stage='' args=() arg name
  if dry; then stage='/tmp/hedgerow-deploy.XXXXXX'; else
    stage=$(remote 'mktemp -d /tmp/hedgerow-deploy.XXXXXX') || die 1 "could not make a folder in /tmp on $ssh_target"
  fi
  for arg in "$@"; do args+=("${arg//@STAGE@/$stage}"); done
  local unpack="mkdir -p $stage/src && tar -xzf - -C $stage/src"
  if dry; then
    printf '+'; printf ' %q' tar -C "$repo" "${TREE_EXCLUDES[@]}" -czf - .; printf ' |'; printf ' %q' ssh "${ssh_args[@]}" "$ssh_target" "$unpack"; printf '\n'
  else
    tar -C "$repo" "${TREE_EXCLUDES[@]}" -czf - . | remote "$unpack" || die 1 "copying the repository to $ssh_target:$stage failed (is /tmp full there?)"
  fi
  for name in "${!EXTRA_FILES[@]}"; do
    if dry; then
      printf '+'; printf ' %q' ssh "${ssh_args[@]}" "$ssh_target" "cat > $stage/$name"; printf ' < %q\n' "${EXTRA_FILES[$name]}"
    else
      remote "cat > $stage/$name" < "${EXTRA_FILES[$name]}" || die 1 "copying ${EXTRA_FILES[$name]} to $ssh_target failed"
    fi
  done
  local command
  command="sudo$(printf ' %q' bash "$stage/src/deploy.sh" install "${args[@]}"); rc=\$?; rm -rf $stage; exit \$rc"
  if dry; then run ssh "${ssh_args[@]}" "$ssh_target" "$command"; return 0; fi
  local rc=0
  remote "$command" || rc=$?
  if [ "$rc" = 255 ]; then die 1 "the connection to $ssh_target broke during the install: run the same command again (a half-built release is never used; it is built again)"; fi
  if [ "$rc" != 0 ]; then die "$rc" "the install on $ssh_target failed (exit $rc): see its message above"; fi
}
