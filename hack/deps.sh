#!/usr/bin/env bash
# Installs the Debian packages svcplane and its tests use, when missing,
# and the static busybox that busybox images run. Idempotent; needs root
# (or sudo) and Debian's package mirrors.
set -euo pipefail

# chromium: test/e2e's TestLiveView loads the live view in it (headless).
packages=(iproute2 iptables nftables ipvsadm ipset conntrack dnsutils curl busybox procps kmod
  qemu-system-x86 cpio xz-utils chromium)

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# Busybox images run the applets of Debian trixie's busybox-static (1.37,
# statically linked, built with wget -T). It is fetched with a private apt
# configuration (its own sources list, state and cache under $cache/apt),
# so the machine's apt sources and its /bin/busybox stay as they are. The
# agent finds it at $cache/busybox (its --busybox default).
cache=${SVCPLANE_CACHE:-/var/cache/svcplane}
suite=trixie
want="1:1.37"

# mirror is the Debian mirror the machine's own sources name.
mirror() {
  local m
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -v '^[[:space:]]*#' | grep -oE '(https?|file)://[^[:space:]]+/debian/?([[:space:]]|$)' | head -n1 | tr -d '[:space:]' || true)
  echo "${m:-http://deb.debian.org/debian}"
}

install_busybox_static() {
  if [ -x "$cache/busybox" ] && [ "$(cat "$cache/busybox.version" 2>/dev/null)" = "$suite" ]; then
    return
  fi
  local apt="$cache/apt" tmp
  $sudo mkdir -p "$apt/etc" "$apt/state/lists/partial" "$apt/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) $suite main" |
    $sudo tee "$apt/etc/sources.list" >/dev/null
  local opts=(-o "Dir::Etc::sourcelist=$apt/etc/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State=$apt/state" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root"
    -o "Acquire::Languages=none" -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
    -o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false")
  echo "fetching busybox-static from $(mirror) $suite into $cache" >&2
  $sudo apt-get "${opts[@]}" update -qq >&2
  tmp=$($sudo mktemp -d "$cache/busybox-static.XXXXXX")
  (cd "$tmp" && $sudo apt-get "${opts[@]}" download -qq busybox-static >&2)
  $sudo dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/root"
  local version
  version=$(dpkg-deb -f "$tmp"/busybox-static_*.deb Version)
  case "$version" in
    "$want"*) ;;
    *) echo "busybox-static $version from $suite is not $want" >&2; $sudo rm -rf "$tmp"; exit 1 ;;
  esac
  $sudo install -m 0755 "$tmp/root/usr/bin/busybox" "$cache/busybox.new"
  $sudo mv -f "$cache/busybox.new" "$cache/busybox"
  echo "$suite" | $sudo tee "$cache/busybox.version" >/dev/null
  $sudo rm -rf "$tmp"
  echo "busybox-static $version installed as $cache/busybox" >&2
}
install_busybox_static

# The kernel and initramfs of test/vm's IPVS VM (hack/vm/run.sh), made
# here once so the test itself only boots; if this fails the test says
# why and skips.
"$(dirname "$0")/vm/run.sh" --prepare || echo "hack/vm/run.sh --prepare failed: test/vm will skip" >&2

command -v go >/dev/null || { echo "go is not on PATH (expected /usr/local/go/bin)" >&2; exit 1; }
