package preflight

import (
	"bytes"
	"strings"
)

// moduleAvailable says whether the kernel has module name: loaded or
// built in (/sys/module), or loadable (/lib/modules/<release>).
func moduleAvailable(p Probes, name string) bool {
	if p.Exists("/sys/module/" + name) {
		return true
	}
	rel, err := p.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return false
	}
	dir := "/lib/modules/" + strings.TrimSpace(string(rel)) + "/"
	want := []byte("/" + name + ".ko")
	for _, f := range []string{"modules.builtin", "modules.dep"} {
		b, err := p.ReadFile(dir + f)
		if err == nil && bytes.Contains(b, want) {
			return true
		}
	}
	return false
}

// hasField says whether a whitespace-separated field of b is word.
func hasField(b []byte, word string) bool {
	for _, f := range strings.Fields(string(b)) {
		if f == word {
			return true
		}
	}
	return false
}

// cgroupControllers are what the agent limits pods with.
func cgroupControllers() []string { return []string{"cpu", "memory", "pids"} }

// checkCgroups finds the controllers enabled, in cgroup v2's root or in
// /proc/cgroups (v1).
func checkCgroups(_ Config, p Probes) []Problem {
	have := map[string]bool{}
	if b, err := p.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		for _, c := range strings.Fields(string(b)) {
			have[c] = true
		}
	} else if b, err := p.ReadFile("/proc/cgroups"); err == nil {
		have = cgroupsV1(b)
	} else {
		return fatal("no cgroups (neither /sys/fs/cgroup/cgroup.controllers nor /proc/cgroups): pods are cgroups")
	}
	var missing []string
	for _, c := range cgroupControllers() {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return warning("cgroup controllers not enabled: %s: pods run without those limits (enable them in the kernel command line or the parent cgroup's cgroup.subtree_control)", strings.Join(missing, ", "))
}

// cgroupsV1 reads /proc/cgroups: name, hierarchy, count, enabled.
func cgroupsV1(b []byte) map[string]bool {
	have := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && !strings.HasPrefix(f[0], "#") && f[3] == "1" {
			have[f[0]] = true
		}
	}
	return have
}

// checkSysctls: a sandbox's node sets its own (loading br_netfilter);
// without a sandbox up changes none of the machine's, so they must be
// set already.
func checkSysctls(cfg Config, p Probes) []Problem {
	const bridgeKey = "/proc/sys/net/bridge/bridge-nf-call-iptables"
	if cfg.Sandbox {
		if p.Exists(bridgeKey) || moduleAvailable(p, "br_netfilter") {
			return nil
		}
		return warning("no br_netfilter in this kernel: traffic between two pods of one node through a Service is not un-NATed on the bridge (CONFIG_BRIDGE_NETFILTER)")
	}
	var out []Problem
	for _, k := range []struct{ file, key string }{
		{"/proc/sys/net/ipv4/ip_forward", "net.ipv4.ip_forward"},
		{bridgeKey, "net.bridge.bridge-nf-call-iptables"},
	} {
		b, err := p.ReadFile(k.file)
		if v := strings.TrimSpace(string(b)); err != nil || v != "1" {
			out = append(out, warning("%s is %s, not 1: up without --sandbox leaves the machine's settings alone; run sysctl -w %s=1 (modprobe br_netfilter for the bridge key) or use --sandbox", k.key, orMissing(v, err), k.key)...)
		}
	}
	return out
}

func orMissing(v string, err error) string {
	if err != nil {
		return "missing"
	}
	return v
}
