#!/usr/bin/env bash
# bench/dns: svcplane dns against CoreDNS 1.15 and a trivial UDP responder
# (the limit), on this machine, in one run; prints markdown tables.
#
#   bench/dns/run.sh [-services 1000] [-endpoints 10] [-duration 20s] [-clients 10] [-outstanding 100]
#                    [-latency-rate 10000] [-latency-duration 10s] [-latency-rounds 3]
#
# Installs dnsperf (apt) and CoreDNS v1.15.0 (go install, ~5 min, once) when
# missing. Everything it starts listens on 127.0.0.1 only and is stopped on
# exit, also on failure or interrupt.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
coredns_dir=/var/cache/svcplane/coredns
coredns=$coredns_dir/coredns

if ! command -v dnsperf >/dev/null; then
	apt-get install -y dnsperf || { apt-get update && apt-get install -y dnsperf; }
fi
if [ ! -x "$coredns" ]; then
	echo "installing CoreDNS v1.15.0 into $coredns_dir (takes minutes)" >&2
	mkdir -p "$coredns_dir"
	(cd /tmp && GOBIN=$coredns_dir go install github.com/coredns/coredns@v1.15.0)
fi

work=$(mktemp -d /tmp/svcplane-bench-dns.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$repo"
go build -o "$work/svcplane" ./cmd/svcplane
go build -o "$work/svcplane-dns" ./cmd/svcplane-dns
go build -o "$work/dnsbench" ./bench/dns
TMPDIR=$work "$work/dnsbench" run -svcplane "$work/svcplane" -svcplane-dns "$work/svcplane-dns" -coredns "$coredns" "$@" &
pid=$!
wait "$pid"
