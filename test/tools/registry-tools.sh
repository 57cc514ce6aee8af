#!/usr/bin/env bash
# Builds the OCI registry (CNCF distribution) and cosign from the Go module proxy into the git-ignored tool
# cache (.cache/tools/bin), once per pinned version (stamp files like build.sh's). Re-running is a no-op
# (milliseconds) when the binaries for the pinned versions exist. Concurrent runs serialise on a lock.
# Progress goes to stderr; the bin dir to stdout. Builds run under `nice` (the CI machine is shared).
#
#   bash test/tools/registry-tools.sh [all|registry|cosign]...
set -euo pipefail
TOOLS_LOG=registry-tools
# shellcheck source=test/tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REGISTRY_VERSION="${REGISTRY_VERSION:-v3.1.2}"
COSIGN_VERSION="${COSIGN_VERSION:-v3.1.3}"
# go_tool NAME PACKAGE VERSION [LDFLAGS]: one lock per tool (registry and cosign may build concurrently), niced;
# the stamp is the plain version.
go_tool() { go_install "$1" "$2" "$3" "$3" ".registry-tools-$1.lock" "-s -w ${4:-}" nice; }

build_registry() { go_tool registry github.com/distribution/distribution/v3/cmd/registry "$REGISTRY_VERSION"; }
build_cosign() {
  go_tool cosign github.com/sigstore/cosign/v3/cmd/cosign "$COSIGN_VERSION" \
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
