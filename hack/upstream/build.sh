#!/usr/bin/env bash
# Builds upstream Kubernetes programs from the k8s.io/kubernetes module at
# the release this module requires (go.mod) and prints the path of each, one
# a line, in the order asked:
#
#   hack/upstream/build.sh kube-proxy kube-apiserver        # -> /var/cache/svcplane/upstream/v1.32.4/kube-proxy ...
#   hack/upstream/build.sh -o /tmp/bin kube-proxy
#
# Targets: kube-proxy, kube-apiserver, e2e.test (the test main in
# hack/upstream/e2e, once it exists). The default directory is
# $SVCPLANE_CACHE/upstream/<version> (SVCPLANE_CACHE defaults to
# /var/cache/svcplane). A binary already built there from the same go.mod,
# go.sum and sources is kept: a second call returns at once. Progress goes
# to stderr; stdout has only the paths. Exits non-zero (with the reason on
# stderr) when the module or its dependencies cannot be fetched or built.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export PATH="$PATH:/usr/local/go/bin"

usage() {
  echo "usage: $0 [-o DIR] TARGET... (kube-proxy, kube-apiserver, e2e.test)" >&2
  exit 2
}

out=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    -o=*) out=${1#-o=}; shift ;;
    -h|--help) usage ;;
    -*) echo "unknown flag $1" >&2; usage ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || usage

# version is the k8s.io/kubernetes release go.mod requires.
version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }
  $1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2 }' "$here/go.mod" | head -n1)
[ -n "$version" ] || { echo "$here/go.mod requires no k8s.io/kubernetes" >&2; exit 1; }
out=${out:-${SVCPLANE_CACHE:-/var/cache/svcplane}/upstream/$version}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The version the programs report (kube-proxy --version, /version), as
# upstream's hack/lib/version.sh stamps it.
major=${version#v}; major=${major%%.*}
minor=${version#v*.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

# stamp identifies what a binary was built from: the module's requirements,
# this script and, for e2e.test, its sources.
stamp() {
  local extra=()
  [ "$1" != e2e.test ] || [ ! -d "$here/e2e" ] || mapfile -t extra < <(find "$here/e2e" -type f -name '*.go' | sort)
  cat "$here/go.mod" "$here/go.sum" "$0" "${extra[@]}" | sha256sum | cut -d' ' -f1
}

# current says whether $1 was built from what its stamp $2 names.
current() { [ -x "$1" ] && [ "$(cat "$1.stamp" 2>/dev/null)" = "$2" ]; }

build() {
  local target=$1 bin="$out/$1"
  local want
  want=$(stamp "$target")
  if current "$bin" "$want"; then
    echo "$bin"
    return
  fi
  # One build of a target at a time (tests and benches may ask at once):
  # who waited finds it built.
  exec 9>"$bin.lock"
  flock 9
  if current "$bin" "$want"; then
    exec 9>&-
    echo "$bin"
    return
  fi
  local start=$SECONDS
  echo "building $target $version into $out (cold: minutes; see hack/upstream/README.md)" >&2
  case "$target" in
    kube-proxy|kube-apiserver)
      (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin.new" "k8s.io/kubernetes/cmd/$target") ;;
    e2e.test)
      [ -d "$here/e2e" ] || { echo "e2e.test: $here/e2e does not exist yet" >&2; exit 1; }
      (cd "$here" && CGO_ENABLED=0 go test -c -vet=off -trimpath -ldflags "$ldflags" -o "$bin.new" ./e2e) ;;
    *) echo "unknown target $target" >&2; usage ;;
  esac
  mv -f "$bin.new" "$bin"
  echo "$want" >"$bin.stamp"
  exec 9>&-
  echo "built $bin in $((SECONDS - start)) s" >&2
  echo "$bin"
}

for t in "${targets[@]}"; do
  build "$t"
done
