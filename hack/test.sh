#!/usr/bin/env bash
# Runs every test: vet, unit and integration tests with the race detector,
# then the end-to-end tests (which build the binary and use kubectl).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
hack/deps.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
echo "== go vet"
go vet ./...
echo "== generated OpenAPI definitions up to date"
hack/update-openapi.sh --verify
echo "== upstream kube-proxy from k8s.io/kubernetes (hack/upstream), for test/e2e's TestUpstreamKubeProxy"
# Built once here (minutes when cold, cached under /var/cache/svcplane/upstream);
# if it cannot be built the test says why.
time hack/upstream/build.sh kube-proxy || echo "hack/upstream/build.sh kube-proxy failed: TestUpstreamKubeProxy will say why" >&2
echo "== go test -race (unit, integration, e2e)"
go test -race -count=1 -timeout 18m ./...
