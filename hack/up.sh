#!/usr/bin/env bash
# Builds svcplane and runs it for one node with embedded etcd and the
# example workload. Extra arguments go to `svcplane up`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
hack/deps.sh
mkdir -p bin
go build -o bin/svcplane ./cmd/svcplane
exec bin/svcplane up "$@"
