package ipvs

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// The iptables chains of the IPVS mode (kube-proxy's iptablesChains).
const (
	chainServices           = "KUBE-SERVICES"
	chainPostrouting        = "KUBE-POSTROUTING"
	chainNodePort           = "KUBE-NODE-PORT"
	chainLoadBalancer       = "KUBE-LOAD-BALANCER"
	chainMarkMasq           = "KUBE-MARK-MASQ"
	chainForward            = "KUBE-FORWARD"
	chainProxyFirewall      = "KUBE-PROXY-FIREWALL"
	chainSourceRangesFW     = "KUBE-SOURCE-RANGES-FIREWALL"
	chainIPVSFilter         = "KUBE-IPVS-FILTER"
	chainIPVSOutFilter      = "KUBE-IPVS-OUT-FILTER"
	tableNAT, tableFilter   = "nat", "filter"
	commentServicePortals   = "kubernetes service portals"
	commentPostrouting      = "kubernetes postrouting rules"
	commentForward          = "kubernetes forwarding rules"
	commentHealthCheck      = "kubernetes health check rules"
	commentProxyFirewall    = "kube-proxy firewall rules"
	commentIPVSAccessFilter = "kubernetes ipvs access filter"
)

// tableChain is one chain of one table.
type tableChain struct{ table, chain string }

// chains are the chains the mode owns, in kube-proxy's order.
var chains = []tableChain{
	{tableNAT, chainServices}, {tableNAT, chainPostrouting}, {tableNAT, chainNodePort},
	{tableNAT, chainLoadBalancer}, {tableNAT, chainMarkMasq},
	{tableFilter, chainForward}, {tableFilter, chainNodePort}, {tableFilter, chainProxyFirewall},
	{tableFilter, chainSourceRangesFW}, {tableFilter, chainIPVSFilter}, {tableFilter, chainIPVSOutFilter},
}

// jump leads from a built-in chain to one of the mode's.
type jump struct{ table, from, to, comment string }

// jumps are kube-proxy's iptablesJumpChain for the IPVS mode.
var jumps = []jump{
	{tableNAT, "OUTPUT", chainServices, commentServicePortals},
	{tableNAT, "PREROUTING", chainServices, commentServicePortals},
	{tableNAT, "POSTROUTING", chainPostrouting, commentPostrouting},
	{tableFilter, "FORWARD", chainForward, commentForward},
	{tableFilter, "INPUT", chainNodePort, commentHealthCheck},
	{tableFilter, "INPUT", chainProxyFirewall, commentProxyFirewall},
	{tableFilter, "FORWARD", chainProxyFirewall, commentProxyFirewall},
	{tableFilter, "INPUT", chainIPVSFilter, commentIPVSAccessFilter},
	{tableFilter, "OUTPUT", chainIPVSOutFilter, commentIPVSAccessFilter},
}

// args are the jump's rule words after the chain.
func (j jump) args() []string {
	return []string{"-m", "comment", "--comment", j.comment, "-j", j.to}
}

// saveLine is the rule as iptables-save prints it.
func (j jump) saveLine() string {
	return "-A " + j.from + " -m comment --comment " + strconv.Quote(j.comment) + " -j " + j.to
}

// setRule is one entry of kube-proxy's ipsetWithIptablesChain: a rule
// written when its set is not empty.
type setRule struct{ set, table, from, to, match, proto string }

var setRules = []setRule{
	{setLoopBack, tableNAT, chainPostrouting, "MASQUERADE", "dst,dst,src", ""},
	{setLoadBalancer, tableNAT, chainServices, chainLoadBalancer, "dst,dst", ""},
	{setLoadBalancerLocal, tableNAT, chainLoadBalancer, "RETURN", "dst,dst", ""},
	{setNodePortLocalTCP, tableNAT, chainNodePort, "RETURN", "dst", "tcp"},
	{setNodePortTCP, tableNAT, chainNodePort, chainMarkMasq, "dst", "tcp"},
	{setNodePortLocalUDP, tableNAT, chainNodePort, "RETURN", "dst", "udp"},
	{setNodePortUDP, tableNAT, chainNodePort, chainMarkMasq, "dst", "udp"},
	{setNodePortLocalSCTP, tableNAT, chainNodePort, "RETURN", "dst,dst", "sctp"},
	{setNodePortSCTP, tableNAT, chainNodePort, chainMarkMasq, "dst,dst", "sctp"},
	{setLoadBalancerFW, tableFilter, chainProxyFirewall, chainSourceRangesFW, "dst,dst", ""},
	{setLBSourceCIDR, tableFilter, chainSourceRangesFW, "RETURN", "dst,dst,src", ""},
	{setLBSourceIP, tableFilter, chainSourceRangesFW, "RETURN", "dst,dst,src", ""},
}

// ruleInput is what the iptables rules depend on.
type ruleInput struct {
	fam         corev1.IPFamily
	opts        proxy.Options
	nonEmpty    func(set string) bool
	comment     func(set string) string
	outFilter   []string
	randomFully bool
}

// rulesText is kube-proxy's writeIptablesRules: the restore body of the
// nat and filter tables (chain lines, rules, COMMIT), without the jumps.
func rulesText(in ruleInput) (nat, filter []string) {
	w := &ruleWriter{in: in}
	lo := "127.0.0.0/8"
	if in.fam == corev1.IPv6Protocol {
		lo = "::1/128"
	}
	w.nat("-A", chainServices, "-s", lo, "-j", "RETURN")
	for _, r := range setRules {
		if in.nonEmpty(r.set) {
			args := []string{"-A", r.from}
			if r.proto != "" {
				args = append(args, "-p", r.proto)
			}
			args = append(args, "-m", "comment", "--comment", w.comment(r.set), "-m", "set", "--match-set", w.name(r.set), r.match, "-j", r.to)
			w.add(r.table, args...)
		}
	}
	w.clusterIP()
	w.externalIPs()
	w.nat("-A", chainServices, "-m", "addrtype", "--dst-type", "LOCAL", "-j", chainNodePort)
	w.nat("-A", chainLoadBalancer, "-j", chainMarkMasq)
	w.filter("-A", chainSourceRangesFW, "-j", "DROP")
	w.filterLines = append(w.filterLines, in.outFilter...)
	for _, set := range []string{setClusterIP, setLoadBalancer} {
		if in.nonEmpty(set) {
			w.nat("-A", chainServices, "-m", "set", "--match-set", w.name(set), "dst,dst", "-j", "ACCEPT")
		}
	}
	w.fixedFilter()
	w.masquerade()
	return w.natLines, w.filterLines
}

type ruleWriter struct {
	in                    ruleInput
	natLines, filterLines []string
}

func (w *ruleWriter) name(set string) string    { return setName(set, w.in.fam) }
func (w *ruleWriter) comment(set string) string { return strconv.Quote(w.in.comment(set)) }

func (w *ruleWriter) add(table string, args ...string) {
	if table == tableNAT {
		w.nat(args...)
	} else {
		w.filter(args...)
	}
}
func (w *ruleWriter) nat(args ...string) { w.natLines = append(w.natLines, strings.Join(args, " ")) }
func (w *ruleWriter) filter(args ...string) {
	w.filterLines = append(w.filterLines, strings.Join(args, " "))
}

// clusterIP marks traffic to cluster IPs for masquerading: all of it with
// masqueradeAll, else what comes from outside the cluster CIDRs, else
// (no detector) what the node sends from a Service address.
func (w *ruleWriter) clusterIP() {
	if !w.in.nonEmpty(setClusterIP) {
		return
	}
	args := []string{"-A", chainServices, "-m", "comment", "--comment", w.comment(setClusterIP), "-m", "set", "--match-set", w.name(setClusterIP)}
	switch {
	case w.in.opts.MasqueradeAll:
		w.nat(append(args, "dst,dst", "-j", chainMarkMasq)...)
	case len(w.in.opts.ClusterCIDRs) > 0:
		for _, c := range w.in.opts.ClusterCIDRs {
			w.nat(append(args, "dst,dst", "!", "-s", c.String(), "-j", chainMarkMasq)...)
		}
	default:
		w.nat(append(args, "src,dst", "-j", chainMarkMasq)...)
	}
}

// externalIPs marks traffic to Cluster-policy external IPs and accepts
// traffic to external IPs from off the node.
func (w *ruleWriter) externalIPs() {
	for _, set := range []string{setExternalIP, setExternalIPLocal} {
		if !w.in.nonEmpty(set) {
			continue
		}
		args := []string{"-A", chainServices, "-m", "comment", "--comment", w.comment(set), "-m", "set", "--match-set", w.name(set), "dst,dst"}
		if set == setExternalIP {
			w.nat(append(args, "-j", chainMarkMasq)...)
		}
		w.nat(append(args, "-m", "physdev", "!", "--physdev-is-in", "-m", "addrtype", "!", "--src-type", "LOCAL", "-j", "ACCEPT")...)
		w.nat(append(args, "-m", "addrtype", "--dst-type", "LOCAL", "-j", "ACCEPT")...)
	}
}

// fixedFilter writes KUBE-FORWARD, the health check ports and
// KUBE-IPVS-FILTER (no host ports through Service addresses,
// kubernetes#72236).
func (w *ruleWriter) fixedFilter() {
	mark := w.in.opts.MasqueradeMark()
	w.filter("-A", chainForward, "-m", "comment", "--comment", `"kubernetes forwarding rules"`, "-m", "mark", "--mark", mark+"/"+mark, "-j", "ACCEPT")
	w.filter("-A", chainForward, "-m", "comment", "--comment", `"kubernetes forwarding conntrack rule"`, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")
	w.filter("-A", chainNodePort, "-m", "comment", "--comment", w.comment(setHealthCheck), "-m", "set", "--match-set", w.name(setHealthCheck), "dst", "-j", "ACCEPT")
	for _, set := range []string{setLoadBalancer, setClusterIP, setExternalIP, setExternalIPLocal} {
		w.filter("-A", chainIPVSFilter, "-m", "set", "--match-set", w.name(set), "dst,dst", "-j", "RETURN")
	}
	w.filter("-A", chainIPVSFilter, "-m", "set", "--match-set", w.name(setHealthCheck), "dst", "-j", "RETURN")
	w.filter("-A", chainIPVSFilter, "-m", "conntrack", "--ctstate", "NEW", "-m", "set", "--match-set", w.name(setIPVSIPs), "dst", "-j", "REJECT")
}

// masquerade writes KUBE-POSTROUTING and KUBE-MARK-MASQ.
func (w *ruleWriter) masquerade() {
	mark := w.in.opts.MasqueradeMark()
	w.nat("-A", chainPostrouting, "-m", "mark", "!", "--mark", mark+"/"+mark, "-j", "RETURN")
	w.nat("-A", chainPostrouting, "-j", "MARK", "--xor-mark", mark)
	masq := []string{"-A", chainPostrouting, "-m", "comment", "--comment", `"kubernetes service traffic requiring SNAT"`, "-j", "MASQUERADE"}
	if w.in.randomFully {
		masq = append(masq, "--random-fully")
	}
	w.nat(masq...)
	w.nat("-A", chainMarkMasq, "-j", "MARK", "--or-mark", mark)
}

// restoreText is the iptables-restore --noflush input: every chain of the
// mode declared (so flushed) and rewritten, and the missing jumps
// inserted at the top of their built-in chains.
func restoreText(nat, filter []string, missing []jump) string {
	var b strings.Builder
	for _, t := range []struct {
		name  string
		rules []string
	}{{tableNAT, nat}, {tableFilter, filter}} {
		b.WriteString("*" + t.name + "\n")
		for _, c := range chains {
			if c.table == t.name {
				b.WriteString(":" + c.chain + " - [0:0]\n")
			}
		}
		for _, j := range missing {
			if j.table == t.name {
				b.WriteString("-I " + j.from + " -m comment --comment " + strconv.Quote(j.comment) + " -j " + j.to + "\n")
			}
		}
		for _, r := range t.rules {
			b.WriteString(r + "\n")
		}
		b.WriteString("COMMIT\n")
	}
	return b.String()
}
