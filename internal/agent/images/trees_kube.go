package images

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/svcplane/svcplane/internal/agent/container"
)

// kernelTools are the programs kube-proxy's image has for the kernel
// (Debian's iptables, nftables, ipset, conntrack and ipvsadm), those of
// them this machine has: the proxy runs iptables-restore, nft and ipset.
var kernelTools = []string{
	"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore",
	"iptables-legacy", "iptables-legacy-save", "iptables-legacy-restore",
	"ip6tables-legacy", "ip6tables-legacy-save", "ip6tables-legacy-restore",
	"iptables-nft", "iptables-nft-save", "iptables-nft-restore",
	"ip6tables-nft", "ip6tables-nft-save", "ip6tables-nft-restore",
	"nft", "ipset", "conntrack", "ipvsadm",
}

// xtablesModules is where iptables loads its match and target modules.
const xtablesModules = "/usr/lib/x86_64-linux-gnu/xtables"

// kubeProxyTree is registry.k8s.io/kube-proxy (Debian with the kernel
// tools): /usr/local/bin/kube-proxy runs `svcplane proxy`; busybox for
// shells.
func kubeProxyTree(dir string, l TreeLayout, applets []string) error {
	if err := busyboxTree(dir, l, applets, false); err != nil {
		return err
	}
	for _, name := range kernelTools {
		if err := copyKernelTool(dir, "/usr/sbin/"+name, l.libs); err != nil {
			return err
		}
	}
	if err := copyDir(dir, xtablesModules, l.libs); err != nil {
		return err
	}
	return link(container.SelfPath, filepath.Join(dir, "usr/local/bin/kube-proxy"))
}

// copyKernelTool copies a program (a link, as Debian's alternatives
// make most of them, becomes a link to the program it resolves to, whose
// name the xtables multi-binaries dispatch on) with its libraries; a
// program missing here is skipped.
func copyKernelTool(dir, path string, libs libraryCache) error {
	real, err := filepath.EvalSymlinks(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := copyHostTools(dir, []string{real}, libs); err != nil {
		return err
	}
	if real == path {
		return nil
	}
	return link(real, filepath.Join(dir, strings.TrimPrefix(path, "/")))
}

// copyDir links or copies the regular files of a directory (not
// recursively) into the tree at root, with their libraries; a missing
// directory is skipped.
func copyDir(root, src string, libs libraryCache) error {
	dst := filepath.Join(root, src)
	entries, err := os.ReadDir(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() && e.Type()&os.ModeSymlink == 0 {
			continue
		}
		if err := linkOrCopyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
		if err := copyLibraries(root, filepath.Join(src, e.Name()), libs); err != nil {
			return err
		}
	}
	return nil
}

// corednsTree is registry.k8s.io/coredns/coredns (distroless: no shell):
// /coredns runs `svcplane dns`.
func corednsTree(dir string, l TreeLayout) error {
	if err := baseTree(dir, l); err != nil {
		return err
	}
	return link(container.SelfPath, filepath.Join(dir, "coredns"))
}
