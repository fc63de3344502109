package allocator

import (
	"net/netip"
	"slices"

	v1 "k8s.io/api/core/v1"
)

// Held lists the values a stored Service holds: its parsable cluster IPs
// (none for ExternalName and headless Services), and its node ports and
// health check node port, each port once, in increasing order. These are
// the values Repair reserves for it.
func Held(svc *v1.Service) (ips []netip.Addr, ports []int) {
	if hasClusterIPs(svc) {
		for _, s := range clusterIPsOf(svc) {
			if ip, err := netip.ParseAddr(s); err == nil {
				ips = append(ips, ip.Unmap())
			}
		}
	}
	for _, np := range nodePortsOf(svc) {
		ports = append(ports, int(np))
	}
	if hc := svc.Spec.HealthCheckNodePort; hc != 0 {
		ports = append(ports, int(hc))
	}
	slices.Sort(ports)
	return ips, slices.Compact(ports)
}
