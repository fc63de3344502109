package healthcheck

import (
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/proxy"
)

// Targets derives the arguments of SyncServices and SyncEndpoints from a
// programmed state: each Service with a healthCheckNodePort, and its number
// of distinct local ready endpoint IPs over all its ports (kube-proxy's
// LocalReadyEndpoints).
func Targets(st *proxy.State) (ports map[types.NamespacedName]uint16, local map[types.NamespacedName]int) {
	ports = map[types.NamespacedName]uint16{}
	ips := map[types.NamespacedName]map[string]bool{}
	for _, s := range st.Services {
		if s.HealthCheckNodePort <= 0 || s.HealthCheckNodePort > 65535 {
			continue
		}
		nn := s.Name.NamespacedName
		ports[nn] = uint16(s.HealthCheckNodePort)
		if ips[nn] == nil {
			ips[nn] = map[string]bool{}
		}
		for _, e := range s.Local {
			if e.Ready {
				ips[nn][e.IP.String()] = true
			}
		}
	}
	local = make(map[types.NamespacedName]int, len(ips))
	for nn, set := range ips {
		local[nn] = len(set)
	}
	return ports, local
}
