package nftables

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"

	"github.com/svcplane/svcplane/internal/proxy"
)

// TableName is the table the backend owns, one per family (ip, ip6).
const TableName = "svcplane"

// The sets and maps of the layout. K below is the service key
// (address . protocol . port) of one way into a service port: its cluster
// IP, an external IP, a load-balancer address or a NodePort address.
const (
	setClusterCIDRs  = "cluster-cidrs"        // pod CIDRs (detectLocalMode ClusterCIDR)
	mapServiceIPs    = "service-ips"          // K : goto the entry's class chain
	mapNoEndpoints   = "no-endpoint-services" // K : goto reject-chain | drop
	mapLBCluster     = "lb-cluster"           // K : goto the pick chain over endpoints-cluster
	mapLBLocal       = "lb-local"             // K : goto the pick chain over endpoints-local
	mapEPCluster     = "endpoints-cluster"    // + "-<proto>": address . port . slot : endpoint address . port
	mapEPLocal       = "endpoints-local"      // + "-<proto>": the same for this node's endpoints
	setFirewallIPs   = "firewall-ips"         // K of load-balancer addresses with source ranges
	setFirewallAllow = "firewall-allow"       // K . allowed source range
	setHairpin       = "hairpin"              // endpoint . endpoint: a pod reaching itself
	mapAffinity      = "affinity"             // client . K : endpoint (dynamic, with timeouts)
	mapAffinitySvcs  = "affinity-services"    // K : goto affinity-<seconds>
)

// The fixed chains.
const (
	chainServices    = "services"
	chainMarkMasq    = "mark-for-masquerade"
	chainMasquerade  = "masquerading"
	chainClusterIP   = "cluster-ip"
	chainClusterIPL  = "cluster-ip-local"
	chainExternal    = "external"
	chainExternalL   = "external-local"
	chainReject      = "reject-chain"
	chainFirewall    = "firewall-check"
	chainEPCheck     = "endpoints-check"
	chainAffRecord   = "affinity-record"
	chainFilterPre   = "filter-prerouting"
	chainFilterIn    = "filter-input"
	chainFilterFwd   = "filter-forward"
	chainFilterOut   = "filter-output"
	chainNATPre      = "nat-prerouting"
	chainNATOut      = "nat-output"
	chainNATPost     = "nat-postrouting"
	defaultAffinityS = 10800
)

// baseChain is one chain hooked into the kernel.
type baseChain struct {
	name     string
	typ      knftables.BaseChainType
	hook     knftables.BaseChainHook
	priority knftables.BaseChainPriority
	rules    []string
}

// baseChains are the hooks, as kube-proxy's nftables mode places them:
// filter chains just before DNAT, nat chains at the DNAT and SNAT
// priorities.
func baseChains() []baseChain {
	// dstnat - 10, spelled as a number: nft before 1.0.7 accepts the
	// name only in the prerouting hook.
	before := knftables.BaseChainPriority("-110")
	newJump := func(c string) string { return "ct state new jump " + c }
	return []baseChain{
		{chainFilterPre, knftables.FilterType, knftables.PreroutingHook, before, []string{newJump(chainFirewall)}},
		{chainFilterIn, knftables.FilterType, knftables.InputHook, before, []string{newJump(chainEPCheck)}},
		{chainFilterFwd, knftables.FilterType, knftables.ForwardHook, before, []string{newJump(chainEPCheck)}},
		{chainFilterOut, knftables.FilterType, knftables.OutputHook, before, []string{newJump(chainFirewall), newJump(chainEPCheck)}},
		{chainNATPre, knftables.NATType, knftables.PreroutingHook, knftables.DNATPriority, []string{"jump " + chainServices}},
		{chainNATOut, knftables.NATType, knftables.OutputHook, knftables.DNATPriority, []string{"jump " + chainServices}},
		{chainNATPost, knftables.NATType, knftables.PostroutingHook, knftables.SNATPriority, []string{"jump " + chainAffRecord, "jump " + chainMasquerade}},
	}
}

// protocols are the transport protocols a service port may use.
func protocols() []string { return []string{"tcp", "udp", "sctp"} }

// family holds the words that differ between ip and ip6.
type family struct {
	nft      knftables.Family
	ip       string // "ip" or "ip6" in expressions
	addrType string // "ipv4_addr" or "ipv6_addr"
}

func familyOf(f corev1.IPFamily) family {
	if f == corev1.IPv6Protocol {
		return family{knftables.IPv6Family, "ip6", "ipv6_addr"}
	}
	return family{knftables.IPv4Family, "ip", "ipv4_addr"}
}

// key is the service key expression of a packet.
func (f family) key() string { return f.ip + " daddr . meta l4proto . th dport" }

// keyType is the type of a service key.
func (f family) keyType() string { return f.addrType + " . inet_proto . inet_service" }

// sets are every set and map of the layout.
func (f family) sets() []knftables.Object {
	interval := []knftables.SetFlag{knftables.IntervalFlag}
	vmap := func(name string) *knftables.Map {
		return &knftables.Map{Name: name, Type: f.keyType() + " : verdict"}
	}
	// typeof, for the numgen slot's integer type. One map per protocol:
	// "tcp dport" implies the protocol, and nft 1.0.6 cannot read a
	// typeof of "ip daddr . th dport" back from the kernel when a later
	// transaction refers to the map.
	var epMaps []knftables.Object
	for _, set := range []string{mapEPCluster, mapEPLocal} {
		for _, p := range protocols() {
			epMaps = append(epMaps, &knftables.Map{Name: epMapName(set, p), TypeOf: fmt.Sprintf("%s daddr . %s dport . numgen random mod 1 : %s daddr . %s dport", f.ip, p, f.ip, p)})
		}
	}
	affTimeout := defaultAffinityS * time.Second
	return append(epMaps,
		&knftables.Set{Name: setClusterCIDRs, Type: f.addrType, Flags: interval},
		vmap(mapServiceIPs), vmap(mapNoEndpoints), vmap(mapLBCluster), vmap(mapLBLocal),
		&knftables.Set{Name: setFirewallIPs, Type: f.keyType()},
		&knftables.Set{Name: setFirewallAllow, Type: f.keyType() + " . " + f.addrType, Flags: interval},
		&knftables.Set{Name: setHairpin, Type: f.addrType + " . " + f.addrType},
		&knftables.Map{
			Name: mapAffinity, Type: f.addrType + " . " + f.keyType() + " : " + f.addrType + " . inet_service",
			Flags: []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag}, Timeout: &affTimeout,
		},
		vmap(mapAffinitySvcs),
	)
}

// bulkSets are the sets and maps a full sync fills through the
// bulkLoader: those that grow with Services and endpoints, all with exact
// (not interval) keys. The small ones (cluster CIDRs, source ranges) go
// with the rules.
func bulkSets() []string {
	out := []string{mapServiceIPs, mapNoEndpoints, mapLBCluster, mapLBLocal, setHairpin, mapAffinitySvcs}
	for _, set := range []string{mapEPCluster, mapEPLocal} {
		for _, p := range protocols() {
			out = append(out, epMapName(set, p))
		}
	}
	return out
}

// isBulk says whether a set or map is one of bulkSets.
func isBulk(name string) bool {
	for _, b := range bulkSets() {
		if b == name {
			return true
		}
	}
	return false
}

// epMapName is the endpoints map of a set (cluster or local) and a
// protocol: "endpoints-cluster-tcp".
func epMapName(set, proto string) string { return set + "-" + proto }

// fixedChains are the regular chains every sync has, with their rules for
// the options in force.
func (f family) fixedChains(o proxy.Options) map[string][]string {
	k := f.key()
	mark := o.MasqueradeMark()
	masqCluster := []string{}
	switch {
	case o.MasqueradeAll:
		masqCluster = []string{"jump " + chainMarkMasq}
	case len(o.ClusterCIDRs) > 0:
		masqCluster = []string{f.ip + " saddr != @" + setClusterCIDRs + " jump " + chainMarkMasq}
	}
	affinity := "dnat " + f.ip + " to " + f.ip + " saddr . " + k + " map @" + mapAffinity
	lb := func(m string) string { return k + " vmap @" + m }
	extLocal := []string{"fib saddr type local jump " + chainMarkMasq, affinity}
	if len(o.ClusterCIDRs) > 0 {
		extLocal = append(extLocal, f.ip+" saddr @"+setClusterCIDRs+" "+lb(mapLBCluster))
	}
	extLocal = append(extLocal, "fib saddr type local "+lb(mapLBCluster), lb(mapLBLocal), "drop")
	record := make([]string, 0, 3)
	for _, p := range protocols() {
		record = append(record, fmt.Sprintf("meta l4proto %s ct status dnat ct original %s daddr . meta l4proto . ct original proto-dst vmap @%s", p, f.ip, mapAffinitySvcs))
	}
	return map[string][]string{
		chainServices: {lb(mapServiceIPs)},
		chainMarkMasq: {"meta mark set meta mark | " + mark},
		chainMasquerade: {
			"ct status dnat " + f.ip + " saddr . " + f.ip + " daddr @" + setHairpin + " masquerade fully-random",
			"meta mark & " + mark + " == 0 return",
			"meta mark set meta mark ^ " + mark,
			"masquerade fully-random",
		},
		chainClusterIP:  append(append([]string{}, masqCluster...), affinity, lb(mapLBCluster)),
		chainClusterIPL: append(append([]string{}, masqCluster...), affinity, lb(mapLBLocal)),
		chainExternal:   {"jump " + chainMarkMasq, affinity, lb(mapLBCluster)},
		chainExternalL:  extLocal,
		chainReject:     {"reject"},
		chainFirewall:   {k + " @" + setFirewallIPs + " " + k + " . " + f.ip + " saddr != @" + setFirewallAllow + " drop"},
		chainEPCheck:    {lb(mapNoEndpoints)},
		chainAffRecord:  record,
	}
}

// pickChain is the name of the chain that picks one of n endpoints of an
// endpoints map with a scheduler: "cluster-tcp-random-3", "local-udp-sh-2".
// Round robin keeps one counter per service port, so its chains are per
// service port: "cluster-rr-ns/svc/tcp/http".
func pickChain(set, proto string, sched scheduler, n int, name proxy.ServicePortName) string {
	if sched == schedRR {
		return fmt.Sprintf("%s-rr-%s/%s/%s/%s", set, name.Namespace, name.Name, proto, name.Port)
	}
	return fmt.Sprintf("%s-%s-%s-%d", set, proto, sched, n)
}

// pickRule is the rule of a pick chain.
func (f family) pickRule(set, proto string, sched scheduler, n int) string {
	var slot string
	switch sched {
	case schedRR:
		slot = fmt.Sprintf("numgen inc mod %d", n)
	case schedSH:
		slot = fmt.Sprintf("jhash %s saddr mod %d seed 0x0", f.ip, n)
	default:
		slot = fmt.Sprintf("numgen random mod %d", n)
	}
	m := epMapName(mapEPCluster, proto)
	if set == "local" {
		m = epMapName(mapEPLocal, proto)
	}
	return fmt.Sprintf("dnat %s to %s daddr . %s dport . %s map @%s", f.ip, f.ip, proto, slot, m)
}

// affinityChain records ClientIP affinity for one timeout.
func affinityChain(seconds int32) string { return fmt.Sprintf("affinity-%d", seconds) }

func (f family) affinityRules(seconds int32) []string {
	out := make([]string, 0, 3)
	for _, p := range protocols() {
		out = append(out, fmt.Sprintf("meta l4proto %s update @%s { %s saddr . ct original %s daddr . meta l4proto . ct original proto-dst timeout %ds : %s daddr . th dport }",
			p, mapAffinity, f.ip, f.ip, seconds, f.ip))
	}
	return out
}
