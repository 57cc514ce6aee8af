#!/usr/bin/env bash
# The steps of the cra-gate GitHub Action (action.yml) and of the GitLab template (ci/gitlab/cra-gate.gitlab-ci.yml),
# in a file so they can be run and tested outside GitHub and GitLab (test/integration/action.test.ts). Inputs come as CRA_GATE_* environment variables (see action.yml); outputs go
# to $GITHUB_OUTPUT, the Markdown report to $GITHUB_STEP_SUMMARY (both optional outside GitHub).
#
#   run.sh              install cra-gate, evaluate, write reports; exits 0 once a verdict exists (even a blocked
#                       one) so that the SARIF upload runs; setup or usage errors exit non-zero at once
#   run.sh --verdict    fail the job according to fail-on (CRA_GATE_EXIT, CRA_GATE_FAIL_ON)
# shellcheck disable=SC2206 # matches=($pattern): the pathname expansion of each pattern is the point
set -euo pipefail

out=${GITHUB_OUTPUT:-/dev/null}
fail() {
  echo "::error title=cra-gate::$*" >&2
  exit 3
}

if [[ ${1:-} == --verdict ]]; then
  code=${CRA_GATE_EXIT:?CRA_GATE_EXIT is not set}
  case ${CRA_GATE_FAIL_ON:-not-approved} in
    not-approved)
      if [[ $code != 0 ]]; then
        echo "::error title=cra-gate::not every release is approved (exit code $code: 1 blocked, 2 unusable input or a verdict that is not final)" >&2
        exit "$code"
      fi
      ;;
    unusable)
      if [[ $code == 2 ]]; then
        echo "::error title=cra-gate::unusable input or a verdict that is not final (exit code 2)" >&2
        exit 2
      fi
      ;;
    never) ;;
    *) fail "fail-on must be not-approved, unusable or never, not '${CRA_GATE_FAIL_ON}'" ;;
  esac
  exit 0
fi

[[ -n ${CRA_GATE_FILES:-} && -n ${CRA_GATE_FILES//[[:space:]]/} ]] || fail "the input 'files' is empty"

# 1. cra-gate itself: an installed command, the installable package (a version, tarball or URL), or the action's
# own checkout.
work=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
if [[ -n ${CRA_GATE_COMMAND:-} ]]; then
  # An installed cra-gate command (the GitLab template installs the package first): its package holds the policies.
  cra=("$CRA_GATE_COMMAND")
  pkg=$(cd "$(dirname "$(readlink -f "$CRA_GATE_COMMAND")")/.." && pwd)
elif [[ -n ${CRA_GATE_PACKAGE:-} ]]; then
  spec=$CRA_GATE_PACKAGE
  [[ -f $spec ]] && spec=$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")
  prefix=$(mktemp -d "$work/cra-gate-install.XXXXXX")
  echo '{"name":"cra-gate-action","private":true}' >"$prefix/package.json"
  npm install --prefix "$prefix" --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error "$spec" >&2 ||
    fail "npm install $CRA_GATE_PACKAGE failed"
  cra=("$prefix/node_modules/.bin/cra-gate")
  pkg=$prefix/node_modules/cra-gate
else
  pkg=${CRA_GATE_ACTION_PATH:?neither CRA_GATE_PACKAGE nor CRA_GATE_ACTION_PATH is set}
  if [[ ! -d $pkg/node_modules/js-yaml ]]; then
    npm ci --prefix "$pkg" --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2 || fail "npm ci in $pkg failed"
  fi
  cra=(node "$pkg/bin/cra-gate.mjs")
fi
echo "cra-gate $("${cra[@]}" --version) on Node.js $(node --version)" >&2

# 2. Arguments. Patterns are split on whitespace (never globbed while splitting), then each is expanded here
# (globstar, so release/**/*.yaml works); a pattern that matches no file is an error: a gate that silently
# evaluates nothing would say so too late.
expand() {
  local what=$1 pattern
  local -a patterns=()
  read -r -d '' -a patterns <<<"$2" || true
  expanded=()
  shopt -s globstar nullglob
  for pattern in "${patterns[@]}"; do
    matches=($pattern)
    ((${#matches[@]})) || fail "no $what matches '$pattern'"
    expanded+=("${matches[@]}")
  done
  shopt -u globstar nullglob
}
expand file "$CRA_GATE_FILES"
args=(evaluate "${expanded[@]}")
expand 'policy file' "${CRA_GATE_POLICY:-}"
((${#expanded[@]})) || expanded=("$pkg/policies/cra-baseline.yaml")
for m in "${expanded[@]}"; do args+=(--policy "$m"); done
expand 'ConfigMap file' "${CRA_GATE_CONFIGMAPS:-}"
for m in "${expanded[@]}"; do args+=(--configmap "$m"); done
args+=(--output "${CRA_GATE_OUTPUT:-text}")
[[ ${CRA_GATE_OFFLINE:-false} == true ]] && args+=(--offline)

dir=${CRA_GATE_OUTPUT_DIR:-cra-gate-reports}
mkdir -p "$dir"
declare -A written=()
for format in ${CRA_GATE_REPORTS:-}; do
  case $format in
    sarif) file='cra-gate.sarif' ;;
    junit) file='cra-gate-junit.xml' ;;
    markdown) file='cra-gate.md' ;;
    json) file='cra-gate.json' ;;
    text) file='cra-gate.txt' ;;
    *) fail "unknown report format '$format' (sarif, junit, markdown, json, text)" ;;
  esac
  args+=(--report "$format=$dir/$file")
  written[$format]=$dir/$file
done

# 3. Evaluate. 0 approved, 1 blocked, 2 unusable input or a verdict that is not final; anything else is a crash.
set +e
"${cra[@]}" "${args[@]}"
code=$?
set -e
((code <= 2)) || fail "cra-gate ended with exit code $code"
{
  echo "exit-code=$code"
  echo "sarif=${written[sarif]:-}"
  echo "junit=${written[junit]:-}"
  echo "markdown=${written[markdown]:-}"
  echo "json=${written[json]:-}"
} >>"$out"
if [[ -n ${written[markdown]:-} && -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  cat "${written[markdown]}" >>"$GITHUB_STEP_SUMMARY"
fi
echo "cra-gate: exit code $code" >&2
