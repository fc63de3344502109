#!/usr/bin/env bash
# Boots Debian's linux-image-amd64 kernel (which ships the ip_vs modules)
# under qemu with a small initramfs and runs one command in it, for the
# tests that need a real IPVS kernel where the machine's own has none.
#
#   hack/vm/run.sh [--add SRC[:DEST]]... [--timeout SECS] [--mem MB] [--cpus N] -- COMMAND
#   hack/vm/run.sh --prepare        # install, download and build the base only
#
# COMMAND runs as `bash -c COMMAND` in /root of the guest, as root, with
# busybox, ipvsadm, ipset, iptables (nft and legacy), nft, conntrack, ip
# and the --add'ed files (DEST defaults to /usr/local/bin/<name>; Go
# binaries must be static: CGO_ENABLED=0). The guest has no network
# device: nothing leaves the VM. Its console (kernel messages and the
# command's output) is copied to stdout; the last line is
#   SVCPLANE-VM-RESULT exit=N
# and the script exits with N. Other exit codes: 3 the VM cannot be had
# here (not root and qemu or a package missing, or no package mirror),
# 124 the timeout (default 300 s) killed the VM, 125 the VM stopped
# without a result.
#
# Everything fetched or built is cached under $SVCPLANE_VM_CACHE
# (/var/cache/svcplane/vm): the Debian packages, the unpacked kernel and
# the base initramfs; a warm run only packs the --add'ed files.
# SVCPLANE_VM_ACCEL=kvm uses KVM (default tcg: a KVM guest was seen to
# hang at boot on this kind of machine).
set -euo pipefail

cache=${SVCPLANE_VM_CACHE:-/var/cache/svcplane/vm}
accel=${SVCPLANE_VM_ACCEL:-tcg}
timeout=300 mem=1536 cpus=2 prepare=0
adds=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
unavailable() { echo "vm: unavailable: $*" >&2; exit 3; }
log() { echo "vm: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --add) adds+=("$2"); shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --prepare) prepare=1; shift ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "vm: unknown argument $1" >&2; usage ;;
  esac
done
command=${*:-}
[ "$prepare" = 1 ] || [ -n "$command" ] || usage

# Host tools: qemu, kmod (depmod, modprobe), cpio, and the tools copied
# into the guest with their libraries.
host_packages=(qemu-system-x86 kmod cpio xz-utils ipvsadm ipset iptables nftables conntrack iproute2)
host_tools=(qemu-system-x86_64 depmod modprobe cpio ipvsadm ipset xtables-nft-multi xtables-legacy-multi nft conntrack ip)

install_host_packages() {
  local missing=() p
  for p in "${host_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || unavailable "missing ${missing[*]} (run as root to install them)"
  log "installing ${missing[*]}"
  { apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; } \
    </dev/null >&2 || unavailable "apt-get could not install ${missing[*]}"
}

# fetch downloads a Debian package (no install) into $cache/debs and
# prints the .deb's path.
fetch() {
  local pkg=$1 deb
  deb=$(ls "$cache/debs/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    log "downloading $pkg"
    (cd "$cache/debs" && { apt-get download -qq -o APT::Sandbox::User=root "$pkg" ||
      { apt-get update -qq && apt-get download -qq -o APT::Sandbox::User=root "$pkg"; }; }) \
      </dev/null >&2 || unavailable "apt-get download $pkg failed"
    deb=$(ls "$cache/debs/${pkg}"_*.deb | head -n1)
  fi
  echo "$deb"
}

# kernel_package names the linux-image-6.1.0-NN-amd64 that
# linux-image-amd64 depends on; it is resolved once and remembered.
kernel_package() {
  if [ ! -s "$cache/kernel.package" ]; then
    local meta pkg
    meta=$(fetch linux-image-amd64)
    pkg=$(dpkg-deb -f "$meta" Depends | grep -oE 'linux-image-[0-9][^ ,]*-amd64' | head -n1)
    [ -n "$pkg" ] || unavailable "linux-image-amd64 names no kernel package"
    echo "$pkg" >"$cache/kernel.package"
  fi
  cat "$cache/kernel.package"
}

# unpack_kernel unpacks the kernel package once into $cache/kernel/<pkg>
# and makes its modules.dep.
unpack_kernel() {
  local pkg=$1 dir=$cache/kernel/$1
  if [ ! -e "$dir/.done" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    dpkg-deb -x "$(fetch "$pkg")" "$dir"
    depmod -b "$dir" "$(ls "$dir/lib/modules")"
    # The uncompressed kernel boots straight into Linux (PVH), without
    # the BIOS and the bzImage's xz decompression, which take ~5 s of
    # emulated CPU.
    local z off
    z=$(ls "$dir"/boot/vmlinuz-*)
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$z" | head -n1 | cut -d: -f1)
    [ -n "$off" ] && tail -c +$((off + 1)) "$z" | xz -dc --single-stream >"$dir/boot/vmlinux" 2>/dev/null ||
      rm -f "$dir/boot/vmlinux"
    touch "$dir/.done"
  fi
  echo "$dir"
}

# Modules in the initramfs, with what they depend on: IPVS and its
# schedulers, conntrack and NAT, ipset, iptables (legacy and nft) with the
# matches and targets kube-proxy's and svcplane's rules use, nftables,
# and what a node's pods need (dummy, veth, bridge, overlay, xfrm_user).
modules=(
  crc32c_generic libcrc32c
  ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_sh ip_vs_dh ip_vs_sed ip_vs_nq ip_vs_mh
  nf_conntrack nf_nat nf_conntrack_netlink
  ip_set ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet ip_set_hash_net
  ip_set_hash_netport ip_set_bitmap_port xt_set
  x_tables ip_tables iptable_nat iptable_filter iptable_mangle iptable_raw
  ip6_tables ip6table_nat ip6table_filter ip6table_mangle
  xt_comment xt_mark xt_MASQUERADE xt_addrtype xt_conntrack xt_nat xt_tcpudp xt_multiport
  xt_statistic xt_recent xt_physdev xt_ipvs xt_REDIRECT ipt_REJECT ip6t_REJECT
  nf_tables nft_compat nft_chain_nat nft_ct nft_masq nft_nat nft_reject_inet nft_reject_ipv4
  nft_numgen nft_hash nft_fib_inet nft_fib_ipv4 nft_limit nft_redir
  dummy veth bridge br_netfilter overlay xfrm_user
)
# Loaded at boot (crc32c_generic before libcrc32c, which nf_conntrack
# needs; the modules kube-proxy checks for; what a node's agent uses at
# once: xfrm_user, whose socket every netlink handle of the agent opens,
# and veth and bridge, which three pods starting together asked the
# kernel to load at the same time, and one of them failed); the kernel
# loads the others when first used, through the guest's modprobe. Each
# costs ~50-100 ms of emulated CPU.
preload=(crc32c_generic ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack xfrm_user veth bridge br_netfilter overlay)

# copy_bin copies a host program and the shared libraries it loads into
# the staging root (under the name it is called by).
copy_bin() {
  local root=$1 bin lib
  shift
  for bin in "$@"; do
    install -D -m 0755 "$(readlink -f "$bin")" "$root$bin"
    for lib in $(ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*'); do
      [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
    done
  done
}

# usr_path is where a path lies in the guest's merged /usr.
usr_path() {
  case "$1" in
    /bin/*|/sbin/*|/lib/*|/lib64/*) echo "/usr$1" ;;
    *) echo "$1" ;;
  esac
}

# unsign cuts the signature off a module: checking it (RSA, SHA-256)
# doubles a module's load time under emulation. The kernel (which does
# not enforce signatures) loads it and marks itself tainted.
unsign() {
  local f=$1 size siglen
  [ "$(tail -c 28 "$f")" = "~Module signature appended~" ] || return 0
  size=$(stat -c %s "$f")
  siglen=$(tail -c 32 "$f" | head -c 4 | od -An -tu1 | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
  truncate -s $((size - 28 - 12 - siglen)) "$f"
}

write_init() {
  cat >"$1/init" <<'EOF'
#!/bin/sh
# Runs as PID 1 from the initramfs: moves the tree into a tmpfs (pivot_root,
# which containers need, refuses the initramfs) and starts /sbin/vm-init there.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
echo "SVCPLANE-VM-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
mkdir -p /newroot
mount -t tmpfs -o mode=0755 root /newroot
for e in /*; do
  case "$e" in /newroot|/proc|/init) ;; *) mv "$e" /newroot/ ;; esac
done
mkdir -p /newroot/proc
umount /proc
exec /newroot/usr/bin/busybox switch_root /newroot /sbin/vm-init
EOF
  cat >"$1/sbin/vm-init" <<'EOF'
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mkdir -p /proc /sys /dev /tmp /run /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /sys/fs/cgroup
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
failed=""
for m in $(cat /etc/vm-modules); do modprobe "$m" 2>/dev/null || failed="$failed $m"; done
[ -z "$failed" ] || echo "SVCPLANE-VM-MODULES failed:$failed"
ip link set lo up
hostname vm
echo "SVCPLANE-VM-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
cd /root
bash /vm/cmd </dev/null
rc=$?
echo "SVCPLANE-VM-RESULT exit=$rc"
sync
poweroff -f
EOF
  chmod 0755 "$1/init" "$1/sbin/vm-init"
}

# build_base makes the cached part of the initramfs: busybox, the tools,
# the modules and init.
build_base() {
  local kdir=$1 out=$2 kver root m
  kver=$(ls "$kdir/lib/modules")
  root=$(mktemp -d "$cache/base.XXXXXX")
  mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/{etc,proc,sys,dev,tmp,run,root,vm,usr/local/bin}
  ln -s usr/bin "$root/bin" && ln -s usr/sbin "$root/sbin" && ln -s usr/lib "$root/lib" && ln -s usr/lib64 "$root/lib64"

  local bb t
  bb=$(mktemp -d "$cache/bb.XXXXXX")
  dpkg-deb -x "$(fetch busybox-static)" "$bb"
  install -m 0755 "$bb/bin/busybox" "$root/usr/bin/busybox"
  rm -rf "$bb"
  # bash runs the command: busybox's sh runs its own applets (its ip,
  # without netns) before the programs of the same name on PATH.
  copy_bin "$root" /usr/sbin/ipvsadm /usr/sbin/ipset /usr/sbin/nft /usr/sbin/conntrack /usr/bin/ip \
    /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi /usr/bin/bash
  for m in $("$root/usr/bin/busybox" --list-full); do
    case "$m" in
      bin/*|usr/bin/*) t=busybox ;;
      sbin/*|usr/sbin/*) t=../bin/busybox ;;
      *) continue ;;
    esac
    [ -e "$root/usr/bin/${m##*/}" ] || [ -e "$root/usr/sbin/${m##*/}" ] || ln -s "$t" "$root/$m"
  done
  mkdir -p "$root/usr/lib/x86_64-linux-gnu"
  cp -a /usr/lib/x86_64-linux-gnu/xtables "$root/usr/lib/x86_64-linux-gnu/"
  local v
  for t in iptables ip6tables; do
    for v in "" -save -restore; do
      ln -sf xtables-nft-multi "$root/usr/sbin/$t$v"
      ln -sf xtables-nft-multi "$root/usr/sbin/$t-nft$v"
      ln -sf xtables-legacy-multi "$root/usr/sbin/$t-legacy$v"
    done
  done
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  echo "root:x:0:" >"$root/etc/group"
  printf 'tcp 6 TCP\nudp 17 UDP\nicmp 1 ICMP\nsctp 132 SCTP\n' | awk '{print $1"\t"$2"\t"$3}' >"$root/etc/protocols"
  echo "127.0.0.1 localhost vm" >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"

  # The modules listed, their dependencies in load order, and a
  # modules.dep for the guest's modprobe.
  local mods=() line seen=" "
  while read -r line; do
    m=${line#insmod }
    m=${m%% *}
    case "$seen" in *" $m "*) continue ;; esac
    seen="$seen$m "
    mods+=("$m")
  done < <(for m in "${modules[@]}"; do
    modprobe -d "$kdir" -S "$kver" --show-depends "$m" || echo "vm: no module $m" >&2
  done | grep '^insmod ')
  for m in "${mods[@]}"; do
    install -D -m 0644 "$m" "$root/lib/modules/$kver/${m#"$kdir"/lib/modules/"$kver"/}"
    unsign "$root/lib/modules/$kver/${m#"$kdir"/lib/modules/"$kver"/}"
  done
  cp "$kdir/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
  depmod -b "$root" "$kver"
  printf '%s\n' "${preload[@]}" >"$root/etc/vm-modules"

  write_init "$root"
  (cd "$root" && find . -mindepth 1 -not -type d) >"$out.files"
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) >"$out.tmp"
  # Zeros to a 4-byte boundary: the kernel reads the archive appended
  # to this one only at an aligned offset.
  head -c $(((4 - $(stat -c %s "$out.tmp") % 4) % 4)) /dev/zero >>"$out.tmp"
  mv "$out.tmp" "$out"
  rm -rf "$root"
}

main() {
  install_host_packages
  local t
  for t in "${host_tools[@]}"; do
    command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null || unavailable "$t not found"
  done
  export PATH=$PATH:/usr/sbin:/sbin
  mkdir -p "$cache/debs" || unavailable "cannot write $cache"

  local kpkg kdir key base
  kpkg=$(kernel_package)
  kdir=$(unpack_kernel "$kpkg")
  fetch busybox-static >/dev/null
  key=$({ cat "$0"; echo "$kpkg"; ls "$cache/debs"; dpkg-query -W "${host_packages[@]}"; } | sha256sum | cut -c1-16)
  base=$cache/initramfs-$key.cpio.gz
  if [ ! -s "$base" ] || [ ! -e "$base.files" ]; then
    log "building the base initramfs ($kpkg)"
    rm -f "$cache"/initramfs-*.cpio.gz "$cache"/initramfs-*.files
    build_base "$kdir" "$base"
  fi
  [ "$prepare" = 1 ] && { log "ready: $base"; return 0; }

  local work
  work=$(mktemp -d /tmp/svcplane-vm.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  mkdir -p "$work/root/vm"
  printf '%s\n' "$command" >"$work/root/vm/cmd"
  local a src dest lib
  for a in ${adds[@]+"${adds[@]}"}; do
    src=${a%%:*}
    dest=${a#*:}
    [ "$dest" != "$a" ] || dest=/usr/local/bin/$(basename "$src")
    [ -e "$src" ] || { echo "vm: no such file: $src" >&2; exit 2; }
    install -D -m "$(stat -c %a "$src")" "$src" "$work/root$(usr_path "$dest")"
    # A dynamic program brings the libraries it links that the base lacks.
    for lib in $(ldd "$src" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' || true); do
      grep -qxF ".$(usr_path "$lib")" "$base.files" ||
        install -D -m 0755 "$(readlink -f "$lib")" "$work/root$(usr_path "$lib")"
    done
  done
  (cd "$work/root" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) >"$work/extra.cpio"
  cat "$base" "$work/extra.cpio" >"$work/initrd"

  local kernel=$kdir/boot/vmlinux
  [ -s "$kernel" ] || kernel=$(ls "$kdir"/boot/vmlinuz-*)
  local accel_opts=(-accel tcg)
  [ "$accel" = kvm ] && accel_opts=(-accel kvm -cpu host)
  log "booting $kpkg ($accel, ${cpus} cpus, ${mem} MB), timeout ${timeout}s"
  local start=$SECONDS rc=0 qpid
  # qemu (under timeout, in this script's process group) in the
  # background, so that the trap can stop it when the script is stopped.
  timeout --foreground -k 5 "$timeout" qemu-system-x86_64 "${accel_opts[@]}" -M pc -smp "$cpus" -m "$mem" \
    -nic none -display none -vga none -monitor none -serial stdio -no-reboot \
    -kernel "$kernel" -initrd "$work/initrd" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off" \
    </dev/null > >(tee "$work/console") 2>&1 &
  qpid=$!
  # qemu also goes when whoever started this script is gone without
  # stopping it (go test ended by its -timeout): this script would be
  # left running with qemu until the VM's timeout.
  local parent=$PPID wpid
  (while kill -0 "$parent" 2>/dev/null; do sleep 2; done; kill "$qpid" 2>/dev/null) </dev/null >/dev/null 2>&1 &
  wpid=$!
  # shellcheck disable=SC2064
  trap "kill $qpid $wpid 2>/dev/null || true; rm -rf '$work'" EXIT INT TERM
  wait "$qpid" || rc=$?
  kill "$wpid" 2>/dev/null || true
  wait 2>/dev/null || true
  log "VM ran $((SECONDS - start))s"
  local result
  result=$(grep -aoE 'SVCPLANE-VM-RESULT exit=[0-9]+' "$work/console" | tail -n1 | cut -d= -f2 || true)
  if [ -n "$result" ]; then
    exit "$result"
  fi
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "vm: timed out after ${timeout}s" >&2
    exit 124
  fi
  echo "vm: the VM stopped without a result (qemu exit $rc)" >&2
  exit 125
}

main
