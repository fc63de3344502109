#!/usr/bin/env bash
# Regenerates internal/apiserver/openapi/generated/zz_generated.openapi.go,
# the OpenAPI definitions (schemas, descriptions, list and patch
# extensions) of every k8s.io/api type svcplane serves, with kube-openapi's
# openapi-gen at the version go.mod requires. Run it after changing the
# k8s.io modules' versions or adding a group to PACKAGES below.
# With --verify it generates into a temporary directory and fails when the
# committed file differs.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  k8s.io/api/core/v1
  k8s.io/api/apps/v1
  k8s.io/api/authentication/v1
  k8s.io/api/authorization/v1
  k8s.io/api/autoscaling/v1
  k8s.io/api/batch/v1
  k8s.io/api/certificates/v1
  k8s.io/api/coordination/v1
  k8s.io/api/discovery/v1
  k8s.io/api/events/v1
  k8s.io/api/networking/v1
  k8s.io/api/policy/v1
  k8s.io/api/rbac/v1
  k8s.io/api/scheduling/v1alpha3
  k8s.io/api/storage/v1
  k8s.io/apimachinery/pkg/apis/meta/v1
  k8s.io/apimachinery/pkg/api/resource
  k8s.io/apimachinery/pkg/runtime
  k8s.io/apimachinery/pkg/util/intstr
  k8s.io/apimachinery/pkg/version
)

pkg=github.com/svcplane/svcplane/internal/apiserver/openapi/generated
dir=internal/apiserver/openapi/generated
file=zz_generated.openapi.go
version=$(go list -m -f '{{.Version}}' k8s.io/kube-openapi)

out=$dir
if [ "${1:-}" = "--verify" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

# The API rule violations of k8s.io/api (names, list types) are upstream's
# to fix; the report is not kept.
go run "k8s.io/kube-openapi/cmd/openapi-gen@$version" \
  --output-dir "$out" --output-pkg "$pkg" --output-file "$file" \
  --go-header-file hack/boilerplate.go.txt --report-filename /dev/null \
  "${PACKAGES[@]}"

if [ "$out" != "$dir" ]; then
  if ! diff -q "$dir/$file" "$out/$file" >/dev/null; then
    echo "$dir/$file is stale: run hack/update-openapi.sh" >&2
    exit 1
  fi
fi
