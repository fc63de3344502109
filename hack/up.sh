#!/usr/bin/env bash
# Builds svcplane and runs it for one node, with embedded etcd and the
# example workload. The node lives in a network namespace of its own
# (sandbox "svcplane"), so nothing touches the machine's own network;
# kubectl reaches the API on the host's 127.0.0.1. Extra arguments go to
# `svcplane up`. Remove the node's pods afterwards with
#   bin/svcplane down --sandbox svcplane
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
hack/deps.sh
mkdir -p bin
go build -o bin/svcplane ./cmd/svcplane
go build -o bin/svcplane-init ./cmd/svcplane-init
exec bin/svcplane up --sandbox svcplane "$@"
