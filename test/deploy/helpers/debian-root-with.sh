#!/usr/bin/env bash
# debian-root-with.sh PACKAGE...: the stand-in Pi's root (debian-root.sh) with more Debian packages
# installed, built once per machine beside it and printed, for a test that needs a package a Pi may not have
# (sdcard-cloud-init.test.ts: cloud-init, about 40 packages; installing it in each test's machine took
# minutes at a load of 6, most of it dpkg configuring Python).
#
# The copy is keyed by the base root and the package list; two runs at once wait on one lock, and a
# half-built copy is never used. cloud-init's own boot-time run is off in it (/etc/cloud/cloud-init.disabled,
# read by its systemd generator), so a machine boots as one where cloud-init was just installed: a test
# removes the file and runs cloud-init's stages itself.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: debian-root-with.sh PACKAGE..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
base=$(bash "$here/debian-root.sh")
key=$(printf '%s\n' "$base" "$@" | sha256sum | cut -c1-12)
root="$base-with-$key"
exec 9>"$base.with.lock"
flock 9
if [ ! -f "$root/.hedgerow-root-complete" ]; then
  rm -rf "$root.partial"
  echo "debian-root-with: building $root with $* (once per machine)" >&2
  cp -a --reflink=auto "$base" "$root.partial"
  rm -f "$root.partial/.hedgerow-root-complete"
  log="$root.partial.log"
  systemd-nspawn -q -D "$root.partial" --register=no --keep-unit --bind-ro=/etc/ssl/certs/ca-certificates.crt /bin/sh -c \
    "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq $* && apt-get clean && if [ -d /etc/cloud ]; then touch /etc/cloud/cloud-init.disabled; fi" \
    >"$log" 2>&1 || { echo "debian-root-with: installing $* failed; its log is $log" >&2; tail -5 "$log" >&2; exit 1; }
  touch "$root.partial/.hedgerow-root-complete"
  rm -rf "$root"; mv "$root.partial" "$root"; rm -f "$log"
fi
echo "$root"
