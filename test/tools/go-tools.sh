#!/usr/bin/env bash
# Builds helm and Grafana's dashboard-linter from the Go module proxy into the git-ignored tool cache
# (.cache/tools/bin), once per pinned version (stamp files like build.sh's). Re-running is a no-op when the
# binaries for the pinned versions exist. Concurrent runs serialise on a lock. Progress goes to stderr; the bin
# dir to stdout.
#
#   bash test/tools/go-tools.sh [all|helm|dashboard-linter]...     all = helm
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# Kubernetes minor helm's defaults claim (`helm template` / `helm lint` without --kube-version); helm's own
# Makefile sets these from its k8s.io module versions.
HELM_K8S_MINOR="${HELM_K8S_MINOR:-36}"
# Grafana's dashboard-linter has no tagged releases and the Go module proxy reachable here does not serve it,
# so it is built only when asked for with a version: DASHBOARD_LINTER_VERSION=<pseudo-version> bash
# test/tools/go-tools.sh dashboard-linter. test/integration/prometheus.test.ts runs it in strict mode when present
# and checks its rules itself either way.
DASHBOARD_LINTER_VERSION="${DASHBOARD_LINTER_VERSION:-}"
cache="${CRA_GATE_TOOLS_CACHE:-$root/.cache/tools}"
bin="$cache/bin"
mkdir -p "$bin"
export CGO_ENABLED=0

log() { printf '[go-tools] %s\n' "$*" >&2; }
stamp_ok() { [[ -x "$bin/$1" && -f "$bin/.$1.version" && "$(<"$bin/.$1.version")" == "$2" ]]; }
recipe() { echo "$1 recipe=${GO_TOOLS_RECIPE:-1}"; }

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

lock_taken=0
take_lock() {
  ((lock_taken)) && return
  command -v go >/dev/null || { log "go is not on PATH; install Go >= 1.25 to build helm and dashboard-linter"; exit 1; }
  exec 8>"$cache/.go-tools.lock"
  if ! flock -n 8; then
    log "another go-tools build is running; waiting for it"
    flock 8
  fi
  lock_taken=1
}

# go_install NAME PACKAGE VERSION [ldflags]
go_install() {
  local name=$1 pkg=$2 version=$3 ldflags=${4:-}
  if stamp_ok "$name" "$(recipe "$version")"; then log "$name $version cached"; return; fi
  take_lock
  if stamp_ok "$name" "$(recipe "$version")"; then log "$name $version cached"; return; fi
  log "$name $version: go install $pkg (a cold build takes a few minutes on 2 cores)"
  local t0=$SECONDS tmp="$cache/gobin-$name"
  rm -rf "$tmp" && mkdir -p "$tmp"
  with_heartbeat "$name" env GOBIN="$tmp" go install -trimpath -ldflags="-s $ldflags" "$pkg@$version"
  mv -f "$tmp/$(basename "${pkg%%/v[0-9]*}")" "$bin/$name" 2>/dev/null || mv -f "$tmp"/* "$bin/$name"
  rm -rf "$tmp"
  recipe "$version" >"$bin/.$name.version"
  log "$name: built in $((SECONDS - t0))s"
}

helm_ldflags="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$HELM_K8S_MINOR"
done
linter() {
  if [[ -z "$DASHBOARD_LINTER_VERSION" ]]; then
    log "dashboard-linter: set DASHBOARD_LINTER_VERSION to build it (not served by the module proxy without an exact version)"
    return
  fi
  go_install dashboard-linter github.com/grafana/dashboard-linter "$DASHBOARD_LINTER_VERSION"
}

what=("${@:-all}")
for w in "${what[@]}"; do
  case "$w" in
    all | helm) go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" "$helm_ldflags" ;;
    dashboard-linter) linter ;;
    *) echo "unknown tool: $w (want: all helm dashboard-linter)" >&2; exit 2 ;;
  esac
done
echo "$bin"
