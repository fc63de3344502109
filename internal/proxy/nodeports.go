package proxy

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// NodePortIPs are the addresses a backend of family serves NodePorts on:
// the configured nodePortAddresses, else the node's addresses and local
// ones of the family, less loopback and link-local ones.
func NodePortIPs(st *State, family corev1.IPFamily, local []netip.Addr) []netip.Addr {
	if st.Options.NodePortAddresses != nil {
		return st.Options.NodePortAddresses
	}
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, ip := range append(append([]netip.Addr{}, st.Node.IPs...), local...) {
		if Family(ip) == family && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() && !seen[ip] {
			seen[ip] = true
			out = append(out, ip)
		}
	}
	return out
}
