package ipvs

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The ipsets, named as kube-proxy names them (IPv6 sets are KUBE-6-...).
const (
	setLoopBack          = "KUBE-LOOP-BACK"
	setClusterIP         = "KUBE-CLUSTER-IP"
	setExternalIP        = "KUBE-EXTERNAL-IP"
	setExternalIPLocal   = "KUBE-EXTERNAL-IP-LOCAL"
	setLoadBalancer      = "KUBE-LOAD-BALANCER"
	setLoadBalancerFW    = "KUBE-LOAD-BALANCER-FW"
	setLoadBalancerLocal = "KUBE-LOAD-BALANCER-LOCAL"
	setLBSourceIP        = "KUBE-LOAD-BALANCER-SOURCE-IP"
	setLBSourceCIDR      = "KUBE-LOAD-BALANCER-SOURCE-CIDR"
	setNodePortTCP       = "KUBE-NODE-PORT-TCP"
	setNodePortLocalTCP  = "KUBE-NODE-PORT-LOCAL-TCP"
	setNodePortUDP       = "KUBE-NODE-PORT-UDP"
	setNodePortLocalUDP  = "KUBE-NODE-PORT-LOCAL-UDP"
	setNodePortSCTP      = "KUBE-NODE-PORT-SCTP-HASH"
	setNodePortLocalSCTP = "KUBE-NODE-PORT-LOCAL-SCTP-HASH"
	setHealthCheck       = "KUBE-HEALTH-CHECK-NODE-PORT"
	setIPVSIPs           = "KUBE-IPVS-IPS"
)

// setInfo is kube-proxy's ipsetInfo: every set the mode keeps.
var setInfo = []SetSpec{
	{setLoopBack, "hash:ip,port,ip", "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose", false},
	{setClusterIP, "hash:ip,port", "Kubernetes service cluster ip + port for masquerade purpose", false},
	{setExternalIP, "hash:ip,port", "Kubernetes service external ip + port for masquerade and filter purpose", false},
	{setExternalIPLocal, "hash:ip,port", "Kubernetes service external ip + port with externalTrafficPolicy=local", false},
	{setLoadBalancer, "hash:ip,port", "Kubernetes service lb portal", false},
	{setLoadBalancerFW, "hash:ip,port", "Kubernetes service load balancer ip + port for load balancer with sourceRange", false},
	{setLoadBalancerLocal, "hash:ip,port", "Kubernetes service load balancer ip + port with externalTrafficPolicy=local", false},
	{setLBSourceIP, "hash:ip,port,ip", "Kubernetes service load balancer ip + port + source IP for packet filter purpose", false},
	{setLBSourceCIDR, "hash:ip,port,net", "Kubernetes service load balancer ip + port + source cidr for packet filter purpose", false},
	{setNodePortTCP, "bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose", false},
	{setNodePortLocalTCP, "bitmap:port", "Kubernetes nodeport TCP port with externalTrafficPolicy=local", false},
	{setNodePortUDP, "bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose", false},
	{setNodePortLocalUDP, "bitmap:port", "Kubernetes nodeport UDP port with externalTrafficPolicy=local", false},
	{setNodePortSCTP, "hash:ip,port", "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'", false},
	{setNodePortLocalSCTP, "hash:ip,port", "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'", false},
	{setHealthCheck, "bitmap:port", "Kubernetes health check node port", false},
	{setIPVSIPs, "hash:ip", "Addresses on the ipvs interface", false},
}

// setsFor are the sets of a family, with their family's names.
func setsFor(fam corev1.IPFamily) []SetSpec {
	out := make([]SetSpec, len(setInfo))
	for i, s := range setInfo {
		s.Name = setName(s.Name, fam)
		// bitmap:port sets hold ports only; they have no family.
		s.IPv6 = fam == corev1.IPv6Protocol && s.Type != "bitmap:port"
		out[i] = s
	}
	return out
}

// setName is kube-proxy's name of a set for a family: "KUBE-6-..." for
// IPv6, cut to ipset's 31 characters.
func setName(name string, fam corev1.IPFamily) string {
	if fam != corev1.IPv6Protocol {
		return name
	}
	name = strings.Replace(name, "KUBE-", "KUBE-6-", 1)
	if len(name) > 31 {
		name = name[:31]
	}
	return name
}
