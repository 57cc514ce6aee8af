#!/usr/bin/env bash
# Everything the integration suites need, installed or built once and then reused (each step is a quick
# no-op when its tools are present): Debian's docker.io, prometheus and the node's packages; etcd,
# kube-apiserver and kubectl; kubelet, kube-controller-manager, kube-scheduler, kube-proxy and CoreDNS;
# helm; an OCI registry and cosign. `npm test` runs this, so it works on a fresh machine by itself.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/install-system.sh"
bash "$here/build.sh" all >/dev/null
# The node of test/integration/helm-e2e.test.ts (kubelet, controller-manager, scheduler, kube-proxy, CoreDNS),
# alongside helm and the registry tools (separate locks; their module downloads and compiles overlap).
bash "$here/build.sh" node >/dev/null &
node_tools=$!
bash "$here/go-tools.sh" >/dev/null
bash "$here/registry-tools.sh" all >/dev/null
wait "$node_tools"
