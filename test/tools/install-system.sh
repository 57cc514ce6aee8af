#!/usr/bin/env bash
# Installs the Debian packages the chart/image/Prometheus/dossier tests need: docker.io (dockerd, for
# testcontainers; it brings containerd and runc, which the node of test/harness/node-cluster.ts runs Pods
# with), prometheus (prometheus + promtool), chromium (headless rendering of the CRA file) and, for that node,
# containernetworking-plugins (bridge + host-local Pod networking), iptables and conntrack (kube-proxy).
# Idempotent and quiet: a package whose binary is present is skipped, so a warm machine runs this in
# milliseconds without touching apt. Needs root (or sudo) only when something is missing. dockerd itself is
# started by the test harness (test/harness/docker.ts), not here.
#
#   bash test/tools/install-system.sh
set -euo pipefail
log() { printf '[system] %s\n' "$*" >&2; }

want=()
command -v dockerd >/dev/null 2>&1 || want+=(docker.io)
{ command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || want+=(prometheus)
# Debian's Chromium renders the CRA file (cra-gate dossier) in the HTML rendering and accessibility test.
command -v chromium >/dev/null 2>&1 || want+=(chromium fonts-dejavu-core)
# The Pod-running node (test/harness/node-cluster.ts, test/integration/helm-e2e.test.ts).
{ command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1; } || want+=(containerd)
command -v runc >/dev/null 2>&1 || want+=(runc)
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || want+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || want+=(iptables)
command -v conntrack >/dev/null 2>&1 || want+=(conntrack)

if ((${#want[@]} == 0)); then
  log "docker.io, prometheus, chromium and the node packages (containerd, CNI plugins, iptables, conntrack) present"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { log "need root to apt-get install ${want[*]}"; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
log "installing ${want[*]} (apt-get; about a minute)"
t0=$SECONDS
"${sudo[@]}" apt-get update -qq >/dev/null
# --no-install-recommends keeps docker.io from pulling in extras; policy-rc.d-free containers may print
# "invoke-rc.d: could not determine current runlevel" which is harmless: nothing is started as a service.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
log "installed ${want[*]} in $((SECONDS - t0))s"
