package iptables

import (
	"context"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"time"

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

// ensureJumps creates the canaries and kube-proxy's chains and inserts the
// jumps to them from the built-in chains, where missing (EnsureChain and
// EnsureRule, with iptables -N, -C and -I).
func (b *Backend) ensureJumps(ctx context.Context, st *proxy.State) error {
	for _, t := range canaryTables {
		if err := b.ensureChain(ctx, t, chainCanary); err != nil {
			return err
		}
	}
	all := jumps
	if st.Family != corev1.IPv6Protocol && st.Options.LocalhostNodePorts {
		all = append(append([]jump{}, jumps...), kubeletJumps...)
	}
	for _, j := range all {
		if err := b.ensureChain(ctx, j.table, j.dst); err != nil {
			return err
		}
		if err := b.ensureRule(ctx, j.table, j.src, j.args()); err != nil {
			return err
		}
	}
	return nil
}

// ensureChain creates chain unless it exists.
func (b *Backend) ensureChain(ctx context.Context, table, chain string) error {
	_, err := b.run(ctx, b.tools.iptables, []string{"-w", "5", "-t", table, "-N", chain}, nil)
	if err != nil && exitCode(err) != 1 {
		return fmt.Errorf("create chain %s/%s: %w", table, chain, err)
	}
	return nil
}

// ensureRule inserts the rule at the top of chain unless it is there.
func (b *Backend) ensureRule(ctx context.Context, table, chain string, rule []string) error {
	base := []string{"-w", "5", "-t", table}
	_, err := b.run(ctx, b.tools.iptables, append(append(base, "-C", chain), rule...), nil)
	if err == nil {
		return nil
	}
	if exitCode(err) != 1 {
		return fmt.Errorf("check rule in %s/%s: %w", table, chain, err)
	}
	if _, err := b.run(ctx, b.tools.iptables, append(append(base, "-I", chain), rule...), nil); err != nil {
		return fmt.Errorf("insert rule in %s/%s: %w", table, chain, err)
	}
	return nil
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
