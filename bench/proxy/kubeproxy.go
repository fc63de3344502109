package main

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"

	"sigs.k8s.io/knftables"

	"github.com/svcplane/svcplane/internal/proxy"
)

// kube-proxy's nftables mode (pkg/proxy/nftables, v1.29-1.31), rebuilt
// for the bench's Services only (ClusterIPs, Cluster policy, no
// affinity): a service-ips verdict map, one chain per service port that
// picks an endpoint with `numgen random mod N vmap`, one chain per
// endpoint that marks hairpin traffic and DNATs. Its chains grow with
// Services x endpoints; that is what makes it slow to load.

const (
	kpTable = "kube-proxy"
	kpMark  = "0x4000"
)

type kpChain struct {
	name, typ, hook, priority string
}

// kpBaseChains are kube-proxy's hooks; the filter priority is spelled as
// a number (dstnat - 10) for nft before 1.0.7.
var kpBaseChains = []kpChain{
	{"filter-prerouting", "filter", "prerouting", "-110"},
	{"filter-input", "filter", "input", "-110"},
	{"filter-forward", "filter", "forward", "-110"},
	{"filter-output", "filter", "output", "-110"},
	{"nat-prerouting", "nat", "prerouting", "dstnat"},
	{"nat-output", "nat", "output", "dstnat"},
	{"nat-postrouting", "nat", "postrouting", "srcnat"},
}

// kpJumps are the rules of the base chains: {from, rule}.
var kpJumps = [][2]string{
	{"filter-input", "ct state new jump endpoints-check"},
	{"filter-forward", "ct state new jump endpoints-check"},
	{"filter-output", "ct state new jump endpoints-check"},
	{"filter-prerouting", "ct state new jump firewall-check"},
	{"filter-output", "ct state new jump firewall-check"},
	{"nat-output", "jump services"},
	{"nat-prerouting", "jump services"},
	{"nat-postrouting", "jump masquerading"},
}

// kpFixedRules are the rules of kube-proxy's fixed regular chains.
var kpFixedRules = [][2]string{
	{"mark-for-masquerade", "mark set mark or " + kpMark},
	{"masquerading", "mark and " + kpMark + " == 0 return"},
	{"masquerading", "mark set mark xor " + kpMark},
	{"masquerading", "masquerade fully-random"},
	{"reject-chain", "reject"},
	{"endpoints-check", "ip daddr . meta l4proto . th dport vmap @no-endpoint-services"},
	{"endpoints-check", "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports"},
	{"firewall-check", "ip daddr . meta l4proto . th dport vmap @firewall-ips"},
	{"services", "ip daddr . meta l4proto . th dport vmap @service-ips"},
	{"services", "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports"},
}

var kpMaps = []*knftables.Map{
	{Name: "no-endpoint-services", Type: "ipv4_addr . inet_proto . inet_service : verdict"},
	{Name: "no-endpoint-nodeports", Type: "inet_proto . inet_service : verdict"},
	{Name: "firewall-ips", Type: "ipv4_addr . inet_proto . inet_service : verdict"},
	{Name: "service-ips", Type: "ipv4_addr . inet_proto . inet_service : verdict"},
	{Name: "service-nodeports", Type: "inet_proto . inet_service : verdict"},
}

// kubeProxyLayout is the text of kube-proxy's first full sync of st, and
// the number of chains it creates.
func kubeProxyLayout(st *proxy.State) ([]byte, int) {
	tx := knftables.NewFake(knftables.IPv4Family, kpTable).NewTransaction()
	chains := map[string]bool{}
	kpSetup(tx, st, chains)
	for _, s := range st.Services {
		kpService(tx, s, st.Options, chains)
	}
	return []byte(tx.String()), len(chains) + len(kpBaseChains)
}

func kpSetup(tx *knftables.Transaction, st *proxy.State, chains map[string]bool) {
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("rules for kube-proxy")})
	for _, bc := range kpBaseChains {
		c := &knftables.Chain{
			Name: bc.name, Type: knftables.PtrTo(knftables.BaseChainType(bc.typ)),
			Hook: knftables.PtrTo(knftables.BaseChainHook(bc.hook)), Priority: knftables.PtrTo(knftables.BaseChainPriority(bc.priority)),
		}
		tx.Add(c)
		tx.Flush(c)
	}
	for _, name := range []string{"endpoints-check", "firewall-check", "services", "masquerading", "mark-for-masquerade", "reject-chain"} {
		kpEnsureChain(tx, name, chains)
	}
	for _, j := range kpJumps {
		tx.Add(&knftables.Rule{Chain: j[0], Rule: j[1]})
	}
	for _, m := range kpMaps {
		tx.Add(m)
		tx.Flush(m)
	}
	for _, r := range kpFixedRules {
		tx.Add(&knftables.Rule{Chain: r[0], Rule: r[1]})
	}
}

// kpService writes one service port: its endpoint chains, its service
// chain and its service-ips element.
func kpService(tx *knftables.Transaction, s *proxy.ServiceState, o proxy.Options, chains map[string]bool) {
	proto := proxy.ProtoLower(s.Protocol)
	base := fmt.Sprintf("%s/%s/%s/%s", s.Name.Namespace, s.Name.Name, proto, s.Name.Port)
	svcChain := "service-" + kpHash(base)
	for _, ep := range s.AllReachable {
		kpEnsureChain(tx, kpEndpointChain(base, ep), chains)
	}
	if len(s.Cluster) == 0 {
		return
	}
	kpEnsureChain(tx, svcChain, chains)
	tx.Add(&knftables.Element{
		Map:   "service-ips",
		Key:   []string{s.ClusterIP.String(), proto, proxy.PortString(s.Port)},
		Value: []string{"goto " + svcChain},
	})
	if len(o.ClusterCIDRs) > 0 {
		tx.Add(&knftables.Rule{Chain: svcChain, Rule: fmt.Sprintf("ip daddr %s %s dport %d ip saddr != %s jump mark-for-masquerade",
			s.ClusterIP, proto, s.Port, o.ClusterCIDRs[0])})
	}
	picks := make([]string, len(s.Cluster))
	for i, ep := range s.Cluster {
		picks[i] = fmt.Sprintf("%d : goto %s", i, kpEndpointChain(base, ep))
	}
	tx.Add(&knftables.Rule{Chain: svcChain, Rule: fmt.Sprintf("numgen random mod %d vmap { %s }", len(s.Cluster), strings.Join(picks, ", "))})
	for _, ep := range s.AllReachable {
		c := kpEndpointChain(base, ep)
		tx.Add(&knftables.Rule{Chain: c, Rule: fmt.Sprintf("ip saddr %s jump mark-for-masquerade", ep.IP)})
		tx.Add(&knftables.Rule{Chain: c, Rule: fmt.Sprintf("meta l4proto %s dnat to %s", proto, ep.String())})
	}
}

func kpEndpointChain(base string, ep proxy.Endpoint) string {
	return "endpoint-" + kpHash(fmt.Sprintf("%s__%s/%d", base, ep.IP, ep.Port))
}

// kpEnsureChain adds and flushes a chain once.
func kpEnsureChain(tx *knftables.Transaction, name string, chains map[string]bool) {
	if chains[name] {
		return
	}
	chains[name] = true
	tx.Add(&knftables.Chain{Name: name})
	tx.Flush(&knftables.Chain{Name: name})
}

// kpHash is kube-proxy's hashAndTruncate: the first 8 characters of
// base32(sha256(name)), a dash, then name (never truncated here).
func kpHash(name string) string {
	h := sha256.Sum256([]byte(name))
	return base32.StdEncoding.EncodeToString(h[:])[:8] + "-" + name
}
