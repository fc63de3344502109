// Package preflight checks, before `svcplane up` creates anything, that
// the machine has what up needs: root, the kernel's network namespaces,
// netfilter (nf_tables or ip_tables, connection tracking), the bridge and
// overlay filesystems, cgroup controllers, the tools the proxy and the
// sandbox run, free ports and disk space. Each missing thing is one line
// that says what is missing, why it matters and how to get it. Checks
// only read the machine (files under /proc and /sys, PATH, a listener
// opened and closed at once, statfs, one netlink query), through Probes,
// so tests replace it; they take a few milliseconds.
package preflight

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Config is what up will run, as far as the checks care.
type Config struct {
	// Sandbox: the node runs in a network namespace of its own.
	Sandbox bool
	// NoAgent: no node (no pods, proxy or DNS).
	NoAgent bool
	// ProxyMode is iptables, nftables, ipvs or userspace ("" is
	// iptables); NoProxy runs none.
	ProxyMode string
	NoProxy   bool
	// IPTablesBackend is legacy, nft or auto ("").
	IPTablesBackend string
	// APIAddress is host:port of the API's listener on the machine.
	APIAddress string
	// AgentAddress is host:port of the agent's server when it listens
	// in the machine's namespace (no sandbox); "" skips the check.
	AgentAddress string
	// DataDir is the data directory (it may not exist yet).
	DataDir string
	// MinFreeBytes under DataDir (DefaultMinFree when 0).
	MinFreeBytes uint64
}

// DefaultMinFree is the free space up wants under its data directory:
// the API refuses writes below 96 MiB, and images and pods' layers need
// room too.
const DefaultMinFree = 256 << 20

// Problem is one thing missing. A Warning lets up go on (something
// works less well); the others stop it.
type Problem struct {
	Line    string
	Warning bool
}

// Probes read the machine.
type Probes interface {
	// Euid is the effective user id.
	Euid() int
	// ReadFile reads a file (under /proc, /sys, /lib/modules).
	ReadFile(path string) ([]byte, error)
	// Exists says whether path exists.
	Exists(path string) bool
	// LookPath finds a program in PATH.
	LookPath(name string) error
	// Listen opens a TCP listener at addr and closes it.
	Listen(addr string) error
	// FreeBytes is the space free under the nearest existing
	// directory of path.
	FreeBytes(path string) (uint64, error)
	// NFTables says whether the kernel answers nf_tables requests.
	NFTables() error
}

// Check runs every check for cfg and returns the problems found, fatal
// ones first.
func Check(cfg Config, p Probes) []Problem {
	var out []Problem
	for _, c := range checks(cfg) {
		out = append(out, c(cfg, p)...)
	}
	return sortFatalFirst(out)
}

type check func(Config, Probes) []Problem

func checks(cfg Config) []check {
	cs := []check{checkRoot, checkPorts, checkDisk}
	if cfg.NoAgent {
		return cs
	}
	return append(cs, checkNetns, checkBridge, checkOverlay, checkConntrack, checkCgroups,
		checkSysctls, checkTools, checkNetfilter, checkIPVS)
}

func sortFatalFirst(ps []Problem) []Problem {
	out := make([]Problem, 0, len(ps))
	for _, warn := range []bool{false, true} {
		for _, p := range ps {
			if p.Warning == warn {
				out = append(out, p)
			}
		}
	}
	return out
}

func fatal(format string, a ...any) []Problem {
	return []Problem{{Line: fmt.Sprintf(format, a...)}}
}

func warning(format string, a ...any) []Problem {
	return []Problem{{Line: fmt.Sprintf(format, a...), Warning: true}}
}

func checkRoot(_ Config, p Probes) []Problem {
	if p.Euid() == 0 {
		return nil
	}
	return fatal("not root: up creates network namespaces, interfaces, cgroups and kernel rules; run it as root (sudo)")
}

func checkPorts(cfg Config, p Probes) []Problem {
	var out []Problem
	for _, a := range []struct{ what, addr, flag string }{
		{"the API", cfg.APIAddress, "--secure-port"},
		{"the node agent", cfg.AgentAddress, "--agent-port"},
	} {
		if a.addr == "" || strings.HasSuffix(a.addr, ":0") {
			continue
		}
		if err := p.Listen(a.addr); err != nil {
			out = append(out, fatal("port %s for %s cannot be opened (%v): stop what holds it (another svcplane up?) or choose %s", a.addr, a.what, unwrapListen(err), a.flag)...)
		}
	}
	return out
}

// unwrapListen keeps the system's reason of a listen error.
func unwrapListen(err error) error {
	if oe, ok := err.(*net.OpError); ok && oe.Err != nil {
		return oe.Err
	}
	return err
}

func checkDisk(cfg Config, p Probes) []Problem {
	min := cfg.MinFreeBytes
	if min == 0 {
		min = DefaultMinFree
	}
	free, err := p.FreeBytes(cfg.DataDir)
	if err != nil {
		return fatal("data directory %s: %v", cfg.DataDir, err)
	}
	if free < min {
		return fatal("only %s free under %s: up wants %s (etcd, images, pods' files); free some or choose --data-dir", mib(free), cfg.DataDir, mib(min))
	}
	return nil
}

func mib(n uint64) string { return strconv.FormatUint(n>>20, 10) + " MiB" }

func checkNetns(_ Config, p Probes) []Problem {
	if p.Exists("/proc/self/ns/net") {
		return nil
	}
	return fatal("no network namespaces in this kernel (/proc/self/ns/net is missing; CONFIG_NET_NS): every node and pod is one")
}

func checkBridge(_ Config, p Probes) []Problem {
	if moduleAvailable(p, "bridge") {
		return nil
	}
	return fatal("no Linux bridge in this kernel (module bridge; CONFIG_BRIDGE): pods hang on their node's bridge")
}

func checkOverlay(_ Config, p Probes) []Problem {
	fs, _ := p.ReadFile("/proc/filesystems")
	if hasField(fs, "overlay") || moduleAvailable(p, "overlay") {
		return nil
	}
	return fatal("no overlay filesystem in this kernel (module overlay; CONFIG_OVERLAY_FS): containers' roots are overlays of their images")
}

func checkConntrack(cfg Config, p Probes) []Problem {
	if cfg.NoProxy || p.Exists("/proc/sys/net/netfilter/nf_conntrack_max") || moduleAvailable(p, "nf_conntrack") {
		return nil
	}
	return fatal("no connection tracking in this kernel (module nf_conntrack; CONFIG_NF_CONNTRACK): Service NAT and masquerading need it")
}
