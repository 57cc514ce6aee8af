#!/usr/bin/env bash
# Builds the real servers the tests run against into a git-ignored cache (.cache/tools/bin),
# once per version. Re-running is a no-op when the binaries for the pinned versions exist.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=/dev/null
source "$here/versions.env"
cache="${CRA_GATE_TOOLS_CACHE:-$root/.cache/tools}"
bin="$cache/bin"
mkdir -p "$bin"
export CGO_ENABLED=0 GOFLAGS=-mod=mod

log() { printf '[tools] %s\n' "$*" >&2; }

stamp_ok() { [[ -x "$bin/$1" && -f "$bin/.$1.version" && "$(cat "$bin/.$1.version")" == "$2" ]]; }

build_kube() {
  local want=("$@") todo=()
  for c in "${want[@]}"; do stamp_ok "$c" "$KUBERNETES_VERSION" || todo+=("$c"); done
  ((${#todo[@]})) || { log "kubernetes $KUBERNETES_VERSION: ${want[*]} cached"; return; }
  local work="$cache/src/kube-$KUBERNETES_VERSION"
  mkdir -p "$work"
  cp "$here/kube/tools.go" "$work/tools.go"
  if [[ ! -f "$work/go.mod" ]]; then
    log "kubernetes $KUBERNETES_VERSION: preparing wrapper module (replace list generated from its go.mod)"
    (cd "$work" && rm -f go.sum && go mod init cra-gate.dev/test-tools/kube >/dev/null 2>&1)
    local modfile
    modfile="$(cd "$work" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    local staging="v0.${KUBERNETES_VERSION#v1.}"
    # Every `k8s.io/x => ./staging/src/k8s.io/x` replace becomes `k8s.io/x => k8s.io/x v0.Y.Z`.
    sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*#\1#p' "$modfile" | while read -r m; do
      (cd "$work" && go mod edit -replace "$m=$m@$staging")
    done
    (cd "$work" && go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION" && go mod tidy >&2)
  fi
  for c in "${todo[@]}"; do
    log "kubernetes $KUBERNETES_VERSION: building $c (cold builds take several minutes on 2 cores)"
    local t0=$SECONDS
    (cd "$work" && go build -trimpath -ldflags=-s -o "$bin/$c" "k8s.io/kubernetes/cmd/$c")
    echo "$KUBERNETES_VERSION" >"$bin/.$c.version"
    log "kubernetes: $c built in $((SECONDS - t0))s"
  done
}

build_etcd() {
  if stamp_ok etcd "$ETCD_VERSION"; then log "etcd $ETCD_VERSION cached"; return; fi
  local work="$cache/src/etcd-$ETCD_VERSION"
  mkdir -p "$work"
  cp "$here/etcd/main.go" "$work/main.go"
  if [[ ! -f "$work/go.mod" ]]; then
    (cd "$work" && go mod init cra-gate.dev/test-tools/etcd >/dev/null 2>&1 && go mod edit -require "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go mod tidy >&2)
  fi
  log "etcd $ETCD_VERSION: building"
  local t0=$SECONDS
  (cd "$work" && go build -trimpath -ldflags=-s -o "$bin/etcd" .)
  echo "$ETCD_VERSION" >"$bin/.etcd.version"
  log "etcd: built in $((SECONDS - t0))s"
}

what=("${@:-all}")
for w in "${what[@]}"; do
  case "$w" in
    all) build_etcd; build_kube kube-apiserver kubectl ;;
    etcd) build_etcd ;;
    kube-apiserver | kube-controller-manager | kubectl) build_kube "$w" ;;
    *) echo "unknown tool: $w" >&2; exit 2 ;;
  esac
done
echo "$bin"
