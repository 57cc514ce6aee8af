#!/usr/bin/env bash
# Builds helm and Grafana's dashboard-linter from the Go module proxy into the git-ignored tool cache
# (.cache/tools/bin), once per pinned version (stamp files like build.sh's). Re-running is a no-op when the
# binaries for the pinned versions exist. Concurrent runs serialise on a lock. Progress goes to stderr; the bin
# dir to stdout.
#
#   bash test/tools/go-tools.sh [all|helm|dashboard-linter]...     all = helm
set -euo pipefail
TOOLS_LOG=go-tools
# shellcheck source=test/tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# Kubernetes minor helm's defaults claim (`helm template` / `helm lint` without --kube-version); helm's own
# Makefile sets these from its k8s.io module versions.
HELM_K8S_MINOR="${HELM_K8S_MINOR:-36}"
# Grafana's dashboard-linter has no tagged releases and the Go module proxy reachable here does not serve it,
# so it is built only when asked for with a version: DASHBOARD_LINTER_VERSION=<pseudo-version> bash
# test/tools/go-tools.sh dashboard-linter. test/integration/prometheus.test.ts runs it in strict mode when present
# and checks its rules itself either way.
DASHBOARD_LINTER_VERSION="${DASHBOARD_LINTER_VERSION:-}"
recipe() { echo "$1 recipe=${GO_TOOLS_RECIPE:-1}"; }
# go_tool NAME PACKAGE VERSION [LDFLAGS]: one lock for all of this script's builds.
go_tool() { go_install "$1" "$2" "$3" "$(recipe "$3")" .go-tools.lock "-s ${4:-}"; }

helm_ldflags="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$HELM_K8S_MINOR"
done
linter() {
  if [[ -z "$DASHBOARD_LINTER_VERSION" ]]; then
    log "dashboard-linter: set DASHBOARD_LINTER_VERSION to build it (not served by the module proxy without an exact version)"
    return
  fi
  go_tool dashboard-linter github.com/grafana/dashboard-linter "$DASHBOARD_LINTER_VERSION"
}

what=("${@:-all}")
for w in "${what[@]}"; do
  case "$w" in
    all | helm) go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" "$helm_ldflags" ;;
    dashboard-linter) linter ;;
    *) echo "unknown tool: $w (want: all helm dashboard-linter)" >&2; exit 2 ;;
  esac
done
echo "$bin"
