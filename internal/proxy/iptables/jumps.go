package iptables

import (
	"context"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// jump is a rule in a built-in chain that leads to one of kube-proxy's.
type jump struct {
	table, src, dst, comment string
	extra                    []string
}

var ctNew = []string{"-m", "conntrack", "--ctstate", "NEW"}

// jumps are kube-proxy's iptablesJumpChains, in its order: each is
// inserted at the top of its chain when missing.
var jumps = []jump{
	{"filter", "INPUT", chainExternalServices, "kubernetes externally-visible service portals", ctNew},
	{"filter", "FORWARD", chainExternalServices, "kubernetes externally-visible service portals", ctNew},
	{"filter", "INPUT", chainNodePorts, "kubernetes health check service ports", nil},
	{"filter", "FORWARD", chainServices, "kubernetes service portals", ctNew},
	{"filter", "OUTPUT", chainServices, "kubernetes service portals", ctNew},
	{"filter", "FORWARD", chainForward, "kubernetes forwarding rules", nil},
	{"filter", "INPUT", chainProxyFirewall, "kubernetes load balancer firewall", ctNew},
	{"filter", "OUTPUT", chainProxyFirewall, "kubernetes load balancer firewall", ctNew},
	{"filter", "FORWARD", chainProxyFirewall, "kubernetes load balancer firewall", ctNew},
	{"nat", "OUTPUT", chainServices, "kubernetes service portals", nil},
	{"nat", "PREROUTING", chainServices, "kubernetes service portals", nil},
	{"nat", "POSTROUTING", chainPostrouting, "kubernetes postrouting rules", nil},
}

// kubeletJumps are kubelet's KUBE-FIREWALL jumps, which kube-proxy also
// ensures when localhost NodePorts are on (IPv4).
var kubeletJumps = []jump{
	{"filter", "INPUT", chainKubeletFirewall, "", nil},
	{"filter", "OUTPUT", chainKubeletFirewall, "", nil},
}

// canaryTables are where KUBE-PROXY-CANARY lives.
var canaryTables = []string{"mangle", "nat", "filter"}

func (j jump) args() []string {
	args := append([]string{}, j.extra...)
	if j.comment != "" {
		args = append(args, "-m", "comment", "--comment", j.comment)
	}
	return append(args, "-j", j.dst)
}

// jumpsFor are the jumps a full sync of st ensures.
func jumpsFor(st *proxy.State) []jump {
	if st.Family != corev1.IPv6Protocol && st.Options.LocalhostNodePorts {
		return append(append([]jump{}, jumps...), kubeletJumps...)
	}
	return jumps
}

// ensureText is what kube-proxy's EnsureChain and EnsureRule calls do
// (iptables -N, -C and -I, 29 runs per full sync, each reading the whole
// table with the legacy backend): it creates the canaries and kube-proxy's
// chains and inserts the jumps to them at the top of the built-in chains,
// where missing. What exists is read from the full sync's iptables-save;
// the text goes at the head of the sync's restore. Existing chains are not
// declared, so they are not flushed.
//
// The text is per table, in kube-proxy's order (each -I goes to the top
// of its chain, as iptables -I does), and empty when nothing is missing.
func ensureText(all []jump, saved *savedTables) []byte {
	var w buffer
	for _, t := range canaryTables {
		start := w.len()
		w.line("*" + t)
		head := w.len()
		declared := map[string]bool{}
		declare := func(chain string) {
			if !declared[chain] && !saved.hasChain(t, chain) {
				declared[chain] = true
				w.line(":" + chain + " - [0:0]")
			}
		}
		declare(chainCanary)
		for _, j := range all {
			if j.table == t {
				declare(j.dst)
			}
		}
		for _, j := range all {
			if j.table == t && !saved.hasRule(t, j.src, j.args()) {
				w.words("-I", j.src)
				for _, a := range j.args() {
					if a == j.comment {
						a = strconv.Quote(a)
					}
					w.word(a)
				}
				w.end()
			}
		}
		if w.len() == head {
			w.b = w.b[:start]
			continue
		}
		w.line("COMMIT")
	}
	return w.b
}

// NeedsFullSync says whether a canary chain is gone (someone flushed or
// deleted a table), which makes the next sync full. It looks at most once
// per Config.CanaryInterval: with the legacy backend each look reads the
// whole table (a second at 10,000 Services).
func (b *Backend) NeedsFullSync(ctx context.Context) bool {
	if b.needFull {
		return true
	}
	if time.Since(b.lastCanary) < b.cfg.CanaryInterval {
		return false
	}
	b.lastCanary = time.Now()
	for _, t := range canaryTables {
		if _, err := b.run(ctx, b.tools.iptables, []string{"-w", "5", "-t", t, "-S", chainCanary}, nil); err != nil {
			b.log.Info("canary chain is gone: next sync is full", "table", t)
			b.needFull = true
			return true
		}
	}
	return false
}
