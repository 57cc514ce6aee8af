#!/usr/bin/env bash
# Builds the real servers the tests run against into a git-ignored cache (.cache/tools/bin),
# once per version. Re-running is a no-op (milliseconds, no Go toolchain needed) when the binaries for the
# pinned versions exist. Concurrent runs serialise on a lock file. Progress goes to stderr; the bin dir to stdout.
#
#   bash test/tools/build.sh [all|node|etcd|kube-apiserver|kubectl|kube-controller-manager|kube-scheduler|kubelet|kube-proxy]...
#   all  = etcd kube-apiserver kubectl
#   node = what a cluster that runs Pods needs besides `all` (test/harness/node-cluster.ts):
#          kube-controller-manager kube-scheduler kubelet kube-proxy, the sandbox image's program (pause) and
#          CoreDNS (cluster DNS)
set -euo pipefail
TOOLS_LOG=tools
# shellcheck source=test/tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=/dev/null
source "$here/versions.env"
export GOFLAGS=-mod=mod

# A binary is current when its stamp file holds "<version> recipe=<TOOLS_RECIPE>" (test/harness/controlplane.ts
# checks the same stamp to skip running this script).
stamp() { echo "$1 recipe=${TOOLS_RECIPE:-1}"; }
take_build_lock() { require_go "the test tools"; take_lock .build.lock; }

build_kube() {
  local want=("$@") todo=()
  for c in "${want[@]}"; do stamp_ok "$c" "$(stamp "$KUBERNETES_VERSION")" || todo+=("$c"); done
  ((${#todo[@]})) || { log "kubernetes $KUBERNETES_VERSION: ${want[*]} cached"; return; }
  take_build_lock
  # Re-check under the lock: a concurrent run may have built them meanwhile.
  todo=()
  for c in "${want[@]}"; do stamp_ok "$c" "$(stamp "$KUBERNETES_VERSION")" || todo+=("$c"); done
  ((${#todo[@]})) || { log "kubernetes $KUBERNETES_VERSION: ${want[*]} cached"; return; }
  local work="$cache/src/kube-$KUBERNETES_VERSION"
  mkdir -p "$work"
  cp "$here/kube/tools.go" "$work/tools.go"
  # A wrapper module prepared by an earlier version of this script counts as prepared.
  [[ -f "$work/go.sum" ]] && grep -q "k8s.io/kubernetes $KUBERNETES_VERSION" "$work/go.mod" 2>/dev/null && touch "$work/.prepared"
  if [[ ! -f "$work/.prepared" ]]; then
    log "kubernetes $KUBERNETES_VERSION: preparing wrapper module (replace list generated from its go.mod)"
    (cd "$work" && rm -f go.mod go.sum && go mod init cra-gate.dev/test-tools/kube >/dev/null 2>&1)
    local modfile
    modfile="$(cd "$work" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    [[ -f "$modfile" ]] || { log "could not download k8s.io/kubernetes@$KUBERNETES_VERSION"; exit 1; }
    local staging="v0.${KUBERNETES_VERSION#v1.}"
    # Every `k8s.io/x => ./staging/src/k8s.io/x` replace becomes `k8s.io/x => k8s.io/x v0.Y.Z`.
    local edits=()
    while read -r m; do edits+=(-replace "$m=$m@$staging"); done \
      < <(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*#\1#p' "$modfile")
    ((${#edits[@]})) || { log "no staging replaces found in $modfile"; exit 1; }
    (cd "$work" && go mod edit "${edits[@]}" && go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION" && go mod tidy >&2)
    touch "$work/.prepared"
  fi
  # Version information as Kubernetes' own hack/lib/version.sh sets it (kubectl version, /version, helm's kubeVersion).
  local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  local ldflags="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  # All missing commands in ONE `go build`: one action graph, so the packages they share (most of
  # k8s.io/kubernetes) are compiled once and the compiler runs in parallel on every core.
  log "kubernetes $KUBERNETES_VERSION: building ${todo[*]} (a cold build takes several minutes on 2 cores)"
  local t0=$SECONDS out="$bin/.kube-build.tmp" pkgs=()
  for c in "${todo[@]}"; do rm -f "$bin/.$c.version"; pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  rm -rf "$out" && mkdir -p "$out"
  if ((${#pkgs[@]} == 1)); then
    (cd "$work" && with_heartbeat "${todo[*]}" go build -trimpath -ldflags="-s $ldflags" -o "$out/${todo[0]}" "${pkgs[@]}")
  else
    (cd "$work" && with_heartbeat "${todo[*]}" go build -trimpath -ldflags="-s $ldflags" -o "$out/" "${pkgs[@]}")
  fi
  for c in "${todo[@]}"; do
    mv -f "$out/$c" "$bin/$c"
    write_stamp "$c" "$(stamp "$KUBERNETES_VERSION")"
  done
  rm -rf "$out"
  log "kubernetes: ${todo[*]} built in $((SECONDS - t0))s"
}

build_etcd() {
  if stamp_ok etcd "$(stamp "$ETCD_VERSION")"; then log "etcd $ETCD_VERSION cached"; return; fi
  take_build_lock
  if stamp_ok etcd "$(stamp "$ETCD_VERSION")"; then log "etcd $ETCD_VERSION cached"; return; fi
  local work="$cache/src/etcd-$ETCD_VERSION"
  mkdir -p "$work"
  cp "$here/etcd/main.go" "$work/main.go"
  [[ -f "$work/go.sum" ]] && grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION" "$work/go.mod" 2>/dev/null && touch "$work/.prepared"
  if [[ ! -f "$work/.prepared" ]]; then
    log "etcd $ETCD_VERSION: preparing wrapper module"
    (cd "$work" && rm -f go.mod go.sum && go mod init cra-gate.dev/test-tools/etcd >/dev/null 2>&1 \
      && go mod edit -require "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go mod tidy >&2)
    touch "$work/.prepared"
  fi
  log "etcd $ETCD_VERSION: building"
  local t0=$SECONDS
  rm -f "$bin/.etcd.version"
  (cd "$work" && with_heartbeat etcd go build -trimpath -ldflags=-s -o "$bin/.etcd.tmp" .)
  mv -f "$bin/.etcd.tmp" "$bin/etcd"
  write_stamp etcd "$(stamp "$ETCD_VERSION")"
  log "etcd: built in $((SECONDS - t0))s"
}

# The test node's sandbox image program (test/tools/pause/main.go): static, no dependencies, seconds to build.
build_pause() {
  local want; want="$(stamp "$(sha256sum "$here/pause/main.go" | cut -c1-16)")"
  if stamp_ok pause "$want"; then log "pause cached"; return; fi
  require_go pause
  local work="$cache/src/pause"
  rm -rf "$work" && mkdir -p "$work" && cp "$here/pause/main.go" "$work/main.go"
  (cd "$work" && go mod init cra-gate.dev/test-tools/pause >/dev/null 2>&1 && go build -trimpath -ldflags=-s -o "$bin/.pause.tmp" .)
  mv -f "$bin/.pause.tmp" "$bin/pause"
  write_stamp pause "$want"
  log "pause built"
}

# CoreDNS (cluster DNS of the test node: Service names resolve in Pods, e.g. for `helm test`), only the
# plugins test/tools/coredns/main.go names, from a wrapper module like etcd's.
build_coredns() {
  local want; want="$(stamp "$COREDNS_VERSION+$(sha256sum "$here/coredns/main.go" | cut -c1-16)")"
  if stamp_ok coredns "$want"; then log "coredns $COREDNS_VERSION cached"; return; fi
  take_build_lock
  if stamp_ok coredns "$want"; then log "coredns $COREDNS_VERSION cached"; return; fi
  local work="$cache/src/coredns-$COREDNS_VERSION"
  mkdir -p "$work"
  cp "$here/coredns/main.go" "$work/main.go"
  if [[ ! -f "$work/.prepared" ]]; then
    log "coredns $COREDNS_VERSION: preparing wrapper module"
    (cd "$work" && rm -f go.mod go.sum && go mod init cra-gate.dev/test-tools/coredns >/dev/null 2>&1 \
      && go mod edit -require "github.com/coredns/coredns@$COREDNS_VERSION" && go mod tidy >&2)
    touch "$work/.prepared"
  fi
  log "coredns $COREDNS_VERSION: building"
  local t0=$SECONDS
  rm -f "$bin/.coredns.version"
  (cd "$work" && with_heartbeat coredns go build -trimpath -ldflags=-s -o "$bin/.coredns.tmp" .)
  mv -f "$bin/.coredns.tmp" "$bin/coredns"
  write_stamp coredns "$want"
  log "coredns: built in $((SECONDS - t0))s"
}

what=("${@:-all}")
for w in "${what[@]}"; do
  case "$w" in
    all) build_etcd; build_kube kube-apiserver kubectl ;;
    node) build_pause; build_coredns; build_kube kube-controller-manager kube-scheduler kubelet kube-proxy ;;
    pause) build_pause ;;
    coredns) build_coredns ;;
    etcd) build_etcd ;;
    kube-apiserver | kube-controller-manager | kubectl | kube-scheduler | kubelet | kube-proxy) build_kube "$w" ;;
    *) echo "unknown tool: $w (want: all node etcd kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy)" >&2; exit 2 ;;
  esac
done
echo "$bin"
