#!/usr/bin/env bash
# Writes the docs tour (docs/*.md, docs/*.png) from a live cluster: builds
# svcplane, starts `svcplane up --sandbox tour` on a free port, runs the
# tour's steps (internal/tour) and writes their real output, then stops
# the cluster and runs `svcplane down`, also on failure. Run as root.
#   hack/docs.sh            # regenerate docs/
#   hack/docs.sh --check    # run the tour's short part, write nothing
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
hack/deps.sh
command -v chromium >/dev/null || apt-get install -y -qq chromium >/dev/null || echo "docs: no chromium: the live view's screenshots will fail" >&2
mkdir -p bin
go build -o bin/svcplane ./cmd/svcplane
go build -o bin/svcplane-init ./cmd/svcplane-init
exec go run ./hack/docs --bin bin/svcplane --out docs "$@"
