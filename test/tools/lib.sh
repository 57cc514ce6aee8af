#!/usr/bin/env bash
# The shell library of test/tools/*.sh: paths, logging, version stamps, locks, a heartbeat for long builds and
# `go install` into the tool cache. Source it after setting TOOLS_LOG (the log prefix):
#
#   TOOLS_LOG=tools; source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets: here (test/tools), root (the repository), cache (CRA_GATE_TOOLS_CACHE or .cache/tools), bin ($cache/bin).
# Every binary in $bin has a stamp file $bin/.NAME.version; a binary is current when its stamp equals the one
# the caller expects (test/harness/controlplane.ts reads the same stamps to skip the build scripts).

here="$(cd "$(dirname "${BASH_SOURCE[1]:-${BASH_SOURCE[0]}}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${CRA_GATE_TOOLS_CACHE:-$root/.cache/tools}"
bin="$cache/bin"
mkdir -p "$bin"
export CGO_ENABLED=0

# log MESSAGE...: progress to stderr, prefixed with [$TOOLS_LOG].
log() { printf '[%s] %s\n' "${TOOLS_LOG:-tools}" "$*" >&2; }

# stamp_ok NAME STAMP: true when $bin/NAME exists, is executable and its stamp is STAMP.
stamp_ok() { [[ -x "$bin/$1" && -f "$bin/.$1.version" && "$(<"$bin/.$1.version")" == "$2" ]]; }

# write_stamp NAME STAMP
write_stamp() { printf '%s\n' "$2" >"$bin/.$1.version"; }

# with_heartbeat WHAT CMD...: runs CMD, printing "still building" every 30 s so a cold build never looks stuck.
with_heartbeat() {
  local what=$1; shift
  local t0=$SECONDS
  (trap 'kill "$s" 2>/dev/null; exit 0' TERM
   while sleep 30 & s=$!; wait "$s"; do log "$what: still building ($((SECONDS - t0))s)"; done) &
  local hb=$!
  local rc=0
  "$@" || rc=$?
  kill "$hb" 2>/dev/null || true
  wait "$hb" 2>/dev/null || true
  return "$rc"
}

# require_go WHAT: exits with a hint when the Go toolchain is missing.
require_go() { command -v go >/dev/null || { log "go is not on PATH; install Go >= 1.25 to build $1"; exit 1; }; }

# take_lock FILE: an exclusive flock on $cache/FILE for the rest of this shell (or until release_lock FILE);
# waits, saying so, when another run holds it. Taking a lock this shell already holds is a no-op.
declare -gA TOOLS_LOCKS=()
take_lock() {
  local file="$cache/$1" fd
  [[ -n "${TOOLS_LOCKS[$file]:-}" ]] && return 0
  exec {fd}>"$file"
  if ! flock -n "$fd"; then
    log "another build holds $file; waiting for it"
    flock "$fd"
  fi
  TOOLS_LOCKS[$file]=$fd
}

# release_lock FILE
release_lock() {
  local file="$cache/$1"
  local fd="${TOOLS_LOCKS[$file]:-}"
  [[ -n "$fd" ]] || return 0
  exec {fd}>&-
  unset "TOOLS_LOCKS[$file]"
}

# go_install NAME PACKAGE VERSION STAMP LOCKFILE [LDFLAGS] [nice]: `go install PACKAGE@VERSION` into $bin/NAME
# unless its stamp is STAMP already; serialised on LOCKFILE (checked again under the lock). With "nice" the
# build runs under `nice -n 10` (the machine is shared).
go_install() {
  local name=$1 pkg=$2 version=$3 want=$4 lock=$5 ldflags=${6:-} niced=${7:-}
  if stamp_ok "$name" "$want"; then log "$name $version cached"; return; fi
  require_go "$name"
  take_lock "$lock"
  if stamp_ok "$name" "$want"; then log "$name $version cached"; return; fi
  log "$name $version: go install $pkg (a cold build takes a few minutes on 2 cores)"
  local t0=$SECONDS tmp="$cache/gobin-$name"
  local prefix=()
  [[ "$niced" == nice ]] && prefix=(nice -n 10)
  rm -rf "$tmp" && mkdir -p "$tmp"
  with_heartbeat "$name" env GOBIN="$tmp" "${prefix[@]}" go install -trimpath -ldflags="$ldflags" "$pkg@$version"
  mv -f "$tmp/$(basename "${pkg%%/v[0-9]*}")" "$bin/$name" 2>/dev/null || mv -f "$tmp"/* "$bin/$name"
  rm -rf "$tmp"
  write_stamp "$name" "$want"
  log "$name: built in $((SECONDS - t0))s"
}
