#!/usr/bin/env bash
# Runs upstream's [Conformance] e2e specs against a fresh sandbox cluster and
# prints a table (set, specs, passed, failed, first failure line of each
# failed spec); JUnit files and logs stay in the results directory.
#
#   hack/conformance.sh [SET...]     # default: every set in SETS; "short" is CI's;
#                                    # sig-network, sig-apps, "sig-node Pods": wider
#   hack/conformance.sh --list       # the sets and their focus
#   hack/conformance.sh 'NAME::REGEX'  # an ad-hoc set: its name and ginkgo focus
#
# e2e.test is built from k8s.io/kubernetes at the version svcplane reports
# (hack/upstream/build.sh e2e.test, cached). The cluster is
# `svcplane up --sandbox` with a data directory of its own, and e2e.test
# runs INSIDE the node's network namespace against the API at the node's
# address: from the machine's own namespace its packets to node and pod
# addresses would leave the machine. Everything is removed at the end, also
# on failure or Ctrl-C. Needs root. Environment:
#   CONFORMANCE_RESULTS  results directory (default _output/conformance)
#   CONFORMANCE_JOBS     sets run at once (default 3)
#   CONFORMANCE_TIMEOUT  per-set ginkgo timeout (default 60m)
#   E2E_TEST             a prebuilt e2e.test (skips the build)
#   CONFORMANCE_SKIP_DEPS=1  do not run hack/deps.sh (hack/test.sh already did)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

# name::focus: the sets, by their names in issue 19.
SETS=(
  "[sig-network] Services::\[sig-network\] Services .*\[Conformance\]"
  "DNS::\[sig-network\] DNS .*\[Conformance\]"
  "EndpointSlice::\[sig-network\] EndpointSlice .*\[Conformance\]"
  "Networking Granular Checks: Pods::\[sig-network\] Networking Granular Checks: Pods .*\[Conformance\]"
  "[sig-apps] Deployment|ReplicaSet::\[sig-apps\] (Deployment|ReplicaSet) .*\[Conformance\]"
  "EndpointSliceMirroring::\[sig-network\] EndpointSliceMirroring .*\[Conformance\]"
  "ReplicationController::\[sig-apps\] ReplicationController .*\[Conformance\]"
)
# WIDE are the wider sets, run only when named: every [Conformance] spec of
# sig-network and of sig-apps, and sig-node's Pods specs.
WIDE=(
  "sig-network::\[sig-network\] .*\[Conformance\]"
  "sig-apps::\[sig-apps\] .*\[Conformance\]"
  "sig-node Pods::\[sig-node\] Pods .*\[Conformance\]"
  "Services (short)::\[sig-network\] Services should (serve a basic endpoint from pods|serve multiport endpoints from pods|provide secure master service|find a service from listing all namespaces) .*\[Conformance\]"
)
ALL=("${SETS[@]}" "${WIDE[@]}")
# SHORT is what hack/test.sh runs: a few minutes.
SHORT=("EndpointSlice" "EndpointSliceMirroring" "Services (short)")

set_name() { echo "${1%%::*}"; }
set_focus() { echo "${1#*::}"; }

# find_set prints the entry of a set named (or abbreviated, case-insensitive) $1.
find_set() {
  local s want
  want=$(tr '[:upper:]' '[:lower:]' <<<"$1")
  for s in "${ALL[@]}"; do
    [ "$(set_name "$s" | tr '[:upper:]' '[:lower:]')" = "$want" ] && { echo "$s"; return; }
  done
  for s in "${SETS[@]}"; do
    case "$(set_name "$s" | tr '[:upper:]' '[:lower:]')" in *"$want"*) echo "$s"; return ;; esac
  done
  echo "unknown set: $1 (hack/conformance.sh --list)" >&2
  return 1
}

chosen=()
for a in "$@"; do
  case "$a" in
    --list) for s in "${ALL[@]}"; do printf '%-36s %s\n' "$(set_name "$s")" "$(set_focus "$s")"; done; exit 0 ;;
    short) for n in "${SHORT[@]}"; do chosen+=("$(find_set "$n")"); done ;;
    ?*::?*) chosen+=("$a") ;;
    *) chosen+=("$(find_set "$a")") ;;
  esac
done
[ ${#chosen[@]} -gt 0 ] || chosen=("${SETS[@]}")

[ "$(id -u)" -eq 0 ] || { echo "hack/conformance.sh needs root (network namespaces)" >&2; exit 1; }
[ -n "${CONFORMANCE_SKIP_DEPS:-}" ] || hack/deps.sh

results=${CONFORMANCE_RESULTS:-_output/conformance}
mkdir -p "$results"
results=$(cd "$results" && pwd)
rm -rf "${results:?}"/set-* "$results/table.md"

echo "== building svcplane and e2e.test"
mkdir -p bin
go build -o bin/svcplane ./cmd/svcplane
go build -o bin/svcplane-init ./cmd/svcplane-init
e2e=${E2E_TEST:-$(hack/upstream/build.sh e2e.test)}

# The cluster: its own sandbox, data directory and port.
name="conf$$"
name=${name:0:20}
work=$(mktemp -d /tmp/svcplane-conformance.XXXXXX)
netns="sp-$name-node-$name"
node_ip=10.240.0.2
up_pid=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  echo "== removing the cluster"
  if [ -n "$up_pid" ] && kill -0 "$up_pid" 2>/dev/null; then
    kill -TERM "$up_pid" 2>/dev/null || true
    for _ in $(seq 1 80); do kill -0 "$up_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$up_pid" 2>/dev/null || true
  fi
  bin/svcplane down --force --sandbox "$name" --data-dir "$work/data" || rc=1
  cp "$work/svcplane.log" "$results/" 2>/dev/null || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  for p in $(seq 17443 17543); do
    ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
  echo "no free port in 17443-17543" >&2
  return 1
}
port=$(free_port)

echo "== starting sandbox $name (data $work/data, API 127.0.0.1:$port, node $node_ip)"
bin/svcplane up --sandbox "$name" --sandbox-node-ip "$node_ip/24" --data-dir "$work/data" \
  --secure-port "$port" --example=false >"$work/svcplane.log" 2>&1 &
up_pid=$!

wait_for() { # what timeout-seconds command...
  local what=$1 t=$2
  shift 2
  for _ in $(seq 1 $((t * 2))); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$up_pid" 2>/dev/null || { echo "svcplane up exited:" >&2; tail -30 "$work/svcplane.log" >&2; return 1; }
    sleep 0.5
  done
  echo "$what: not within ${t}s" >&2
  tail -30 "$work/svcplane.log" >&2
  return 1
}
kc="$work/data/admin.kubeconfig"
wait_for "svcplane up" 120 grep -q "svcplane is up" "$work/svcplane.log"
node_ready() {
  [ "$(kubectl --kubeconfig "$kc" get node "$name" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
wait_for "node Ready" 60 node_ready
wait_for "default ServiceAccount" 60 kubectl --kubeconfig "$kc" get serviceaccount default

# The tests' kubeconfig names the node's address (the serving certificate
# covers it): inside the namespace that is where the API is.
e2ekc="$work/e2e.kubeconfig"
sed -E "s#server: https://[^[:space:]]+#server: https://$node_ip:$port#" "$kc" >"$e2ekc"
wait_for "the API at https://$node_ip:$port inside $netns" 30 \
  ip netns exec "$netns" kubectl --kubeconfig "$e2ekc" get --raw /version

run_set() { # entry dir
  local focus args
  focus=$(set_focus "$1")
  args=(--kubeconfig="$e2ekc" --report-dir="$2" --ginkgo.focus="$focus"
    --ginkgo.timeout="${CONFORMANCE_TIMEOUT:-60m}" --ginkgo.no-color)
  mkdir -p "$2"
  ip netns exec "$netns" "$e2e" "${args[@]}" >"$2/e2e.log" 2>&1 || true
  echo "== done: $(set_name "$1"): $(grep -E '^Ran [0-9]+ of' "$2/e2e.log" | tail -1)"
}

# Sets run side by side (CONFORMANCE_JOBS at a time), each spec of a set
# after the other, as upstream's conformance specs allow (none is [Serial]).
jobs_max=${CONFORMANCE_JOBS:-3}
report_args=()
i=0
for s in "${chosen[@]}"; do
  i=$((i + 1))
  dir="$results/set-$i"
  while [ "$(jobs -rp | wc -l)" -ge $((jobs_max + 1)) ]; do wait -n || true; done
  echo "== $(set_name "$s")   (log: $dir/e2e.log)"
  run_set "$s" "$dir" &
  report_args+=("$(set_name "$s")=$dir")
done
for p in $(jobs -rp); do [ "$p" = "$up_pid" ] || wait "$p" || true; done

echo
go run ./hack/conformance/report "${report_args[@]}" | tee "$results/table.md"
