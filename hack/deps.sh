#!/usr/bin/env bash
# Installs the Debian packages svcplane and its tests use, when missing.
# Idempotent; needs root (or sudo) and Debian's package mirrors.
set -euo pipefail

packages=(iproute2 iptables nftables ipvsadm conntrack dnsutils curl busybox procps kmod)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
command -v go >/dev/null || { echo "go is not on PATH (expected /usr/local/go/bin)" >&2; exit 1; }
