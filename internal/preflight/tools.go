package preflight

import (
	"fmt"
	"strings"
)

// checkTools: the programs up runs itself (the kube-proxy and coredns
// images take the proxy's tools from the machine too).
func checkTools(cfg Config, p Probes) []Problem {
	var out []Problem
	need := func(prog, pkg, why string) {
		if p.LookPath(prog) != nil {
			out = append(out, fatal("no %s in PATH: %s (Debian: apt-get install %s)", prog, why, pkg)...)
		}
	}
	if cfg.Sandbox {
		need("nsenter", "util-linux", "up runs the sandbox's node inside its namespace with it")
	}
	if !cfg.NoProxy && mode(cfg) == "nftables" {
		need("nft", "nftables", "the nftables proxy mode writes its rules with it")
	}
	return out
}

func mode(cfg Config) string {
	if cfg.ProxyMode == "" {
		return "iptables"
	}
	return cfg.ProxyMode
}

// checkNetfilter: nftables mode needs nf_tables; iptables mode (and ipvs
// mode's few rules) one iptables backend whose tools are in PATH and
// whose kernel side exists.
func checkNetfilter(cfg Config, p Probes) []Problem {
	switch {
	case cfg.NoProxy || mode(cfg) == "userspace":
		return nil
	case mode(cfg) == "nftables":
		if err := p.NFTables(); err != nil {
			return fatal("no nf_tables in this kernel (%v; CONFIG_NF_TABLES): the nftables proxy mode needs it; try --proxy-mode iptables", err)
		}
		return nil
	}
	var why []string
	for _, b := range backends(cfg.IPTablesBackend) {
		reason := backendMissing(p, b)
		if reason == "" {
			return nil
		}
		why = append(why, reason)
	}
	return fatal("no iptables backend for the %s proxy mode: %s (Debian: apt-get install iptables)", mode(cfg), strings.Join(why, "; "))
}

func backends(want string) []string {
	if want == "legacy" || want == "nft" {
		return []string{want}
	}
	return []string{"legacy", "nft"}
}

// backendMissing says what iptables backend b lacks, or "".
func backendMissing(p Probes, b string) string {
	var missing []string
	for _, suffix := range []string{"", "-save", "-restore"} {
		if prog := "iptables-" + b + suffix; p.LookPath(prog) != nil {
			missing = append(missing, prog)
		}
	}
	if len(missing) > 0 {
		return "no " + strings.Join(missing, ", ") + " in PATH"
	}
	if b == "nft" {
		if err := p.NFTables(); err != nil {
			return fmt.Sprintf("iptables-nft: no nf_tables in the kernel (%v)", err)
		}
		return ""
	}
	if p.Exists("/proc/net/ip_tables_names") || moduleAvailable(p, "ip_tables") {
		return ""
	}
	return "iptables-legacy: no ip_tables in the kernel (CONFIG_IP_NF_IPTABLES)"
}

// checkIPVS: without IPVS, ipvs mode runs iptables mode; say so now.
func checkIPVS(cfg Config, p Probes) []Problem {
	if cfg.NoProxy || mode(cfg) != "ipvs" || p.Exists("/proc/net/ip_vs") || moduleAvailable(p, "ip_vs") {
		return nil
	}
	return warning("no IPVS in this kernel (module ip_vs): --proxy-mode ipvs will run iptables mode (see README, The proxy; test/vm has an IPVS kernel)")
}
