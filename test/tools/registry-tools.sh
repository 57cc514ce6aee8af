#!/usr/bin/env bash
# Builds the OCI registry (CNCF distribution) and cosign from the Go module proxy into the git-ignored tool
# cache (.cache/tools/bin), once per pinned version (stamp files like build.sh's). Re-running is a no-op
# (milliseconds) when the binaries for the pinned versions exist. Concurrent runs serialise on a lock.
# Progress goes to stderr; the bin dir to stdout. Builds run under `nice` (the CI machine is shared).
#
#   bash test/tools/registry-tools.sh [all|registry|cosign]...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
REGISTRY_VERSION="${REGISTRY_VERSION:-v3.1.2}"
COSIGN_VERSION="${COSIGN_VERSION:-v3.1.3}"
cache="${CRA_GATE_TOOLS_CACHE:-$root/.cache/tools}"
bin="$cache/bin"
mkdir -p "$bin"
export CGO_ENABLED=0

log() { printf '[registry-tools] %s\n' "$*" >&2; }
stamp_ok() { [[ -x "$bin/$1" && -f "$bin/.$1.version" && "$(<"$bin/.$1.version")" == "$2" ]]; }

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

# One lock per tool: registry and cosign may build concurrently (separate invocations), each only once.
take_lock() {
  command -v go >/dev/null || { log "go is not on PATH; install Go >= 1.25 to build registry and cosign"; exit 1; }
  exec 7>"$cache/.registry-tools-$1.lock"
  if ! flock -n 7; then
    log "another $1 build is running; waiting for it"
    flock 7
  fi
}

# go_install NAME PACKAGE VERSION [ldflags]
go_install() {
  local name=$1 pkg=$2 version=$3 ldflags=${4:-}
  if stamp_ok "$name" "$version"; then log "$name $version cached"; return; fi
  take_lock "$name"
  if stamp_ok "$name" "$version"; then log "$name $version cached"; return; fi
  log "$name $version: go install $pkg (a cold build takes several minutes on 2 cores)"
  local t0=$SECONDS tmp="$cache/gobin-$name"
  rm -rf "$tmp" && mkdir -p "$tmp"
  with_heartbeat "$name" env GOBIN="$tmp" nice -n 10 go install -trimpath -ldflags="-s -w $ldflags" "$pkg@$version"
  mv -f "$tmp"/* "$bin/$name"
  rm -rf "$tmp"
  echo "$version" >"$bin/.$name.version"
  log "$name: built in $((SECONDS - t0))s"
  exec 7>&-
}

build_registry() { go_install registry github.com/distribution/distribution/v3/cmd/registry "$REGISTRY_VERSION"; }
build_cosign() {
  go_install cosign github.com/sigstore/cosign/v3/cmd/cosign "$COSIGN_VERSION" \
    "-X sigs.k8s.io/release-utils/version.gitVersion=$COSIGN_VERSION"
}

what=("${@:-all}")
for w in "${what[@]}"; do
  case "$w" in
    all)
      # Both at once (each go build is niced); a cold run takes the time of the longer one.
      build_registry & r=$!
      build_cosign & c=$!
      rc=0; wait "$r" || rc=$?; wait "$c" || rc=$?
      ((rc == 0)) || exit "$rc" ;;
    registry) build_registry ;;
    cosign) build_cosign ;;
    *) echo "unknown tool: $w (want: all registry cosign)" >&2; exit 2 ;;
  esac
done
echo "$bin"
