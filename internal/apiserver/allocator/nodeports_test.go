package allocator

import (
	"fmt"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func boolPtr(b bool) *bool { return &b }

// Create: node ports for NodePort and LoadBalancer Services.
func TestCreateNodePorts(t *testing.T) {
	tests := []struct {
		name  string
		svc   *v1.Service
		want  string // node ports by port ("d" for a dynamic one, same letter = same port), or the kubectl error
		hc    bool   // expects a health check node port
		ports int    // node ports reserved afterwards, the 30080 taken beforehand included
	}{
		{"one dynamic", service("web", "NodePort", port("http", "TCP", 80, 0)), "[a]", false, 2},
		{"tcp and udp 53 share", service("dns", "NodePort", port("tcp", "TCP", 53, 0), port("udp", "UDP", 53, 0), port("http", "TCP", 80, 0)),
			"[a a b]", false, 3},
		{"requested on the second of a pair", service("dns", "NodePort", port("tcp", "TCP", 53, 0), port("udp", "UDP", 53, 30053)),
			"[30053 30053]", false, 2},
		{"twins may ask for different ports", service("dns", "NodePort", port("tcp", "TCP", 53, 30053), port("udp", "UDP", 53, 30054)),
			"[30053 30054]", false, 3},
		{"cluster IP type gets none", service("web", "ClusterIP", port("http", "TCP", 80, 0)), "[0]", false, 1},
		{"lb without node ports keeps requests", lbNoNodePorts(port("a", "TCP", 80, 0), port("b", "TCP", 81, 30081)),
			"[0 30081]", false, 2},
		{"lb local gets a health check port", lbLocal(0, port("http", "TCP", 80, 0)), "[a]", true, 3},
		{"lb local requested health check port", lbLocal(30099, port("http", "TCP", 80, 0)), "[a]", true, 3},
		{"taken", service("web", "NodePort", port("http", "TCP", 80, 0), port("alt", "TCP", 8080, 30080)),
			`The Service "web" is invalid: spec.ports[1].nodePort: Invalid value: 30080: provided port is already allocated`, false, 1},
		{"taken by the twin's request", service("dns", "NodePort", port("tcp", "TCP", 53, 0), port("udp", "UDP", 53, 30080)),
			`The Service "dns" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated`, false, 1},
		{"out of range", service("web", "NodePort", port("http", "TCP", 80, 80)),
			`The Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767`, false, 1},
		{"health check port taken", lbLocal(30080, port("http", "TCP", 80, 0)),
			`Error from server (InternalError): Internal error occurred: failed to allocate requested HealthCheck NodePort 30080: provided port is already allocated`, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAllocators(t, "")
			_ = a.NodePorts.Allocate(30080)
			_, err := a.Create(tt.svc, false)
			got := kubectlText(err)
			if err == nil {
				got = letters(nodePorts(tt.svc))
			}
			if got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
			if hc := tt.svc.Spec.HealthCheckNodePort != 0; err == nil && hc != tt.hc {
				t.Errorf("healthCheckNodePort = %d", tt.svc.Spec.HealthCheckNodePort)
			}
			if _, ports := used(a); ports != tt.ports {
				t.Errorf("%d node ports reserved, want %d", ports, tt.ports)
			}
		})
	}
}

func lbNoNodePorts(ports ...v1.ServicePort) *v1.Service {
	svc := service("lb", v1.ServiceTypeLoadBalancer, ports...)
	svc.Spec.AllocateLoadBalancerNodePorts = boolPtr(false)
	return svc
}

func lbLocal(hc int32, ports ...v1.ServicePort) *v1.Service {
	svc := service("lb", v1.ServiceTypeLoadBalancer, ports...)
	svc.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicyLocal
	svc.Spec.HealthCheckNodePort = hc
	return svc
}

// letters prints node ports with dynamic ones as letters, the same letter
// for the same port: "[a a 30053]". The ports the tests request are printed
// as numbers.
func letters(ports []int32) string {
	requested := map[int32]bool{0: true, 30001: true, 30002: true, 30053: true, 30054: true, 30081: true}
	names := map[int32]string{}
	var out []string
	for _, p := range ports {
		switch {
		case requested[p]:
			out = append(out, fmt.Sprint(p))
		case names[p] != "":
			out = append(out, names[p])
		default:
			names[p] = string(rune('a' + len(names)))
			out = append(out, names[p])
		}
	}
	return "[" + joinSpace(out) + "]"
}

// Update: what is allocated at once, and what is released on Commit.
func TestUpdateNodePorts(t *testing.T) {
	tests := []struct {
		name        string
		old, new    *v1.Service
		want        string // node ports of new, or the kubectl error
		ports       int    // reserved after the update, before Commit
		afterCommit int
	}{
		{"to NodePort: no sharing on update",
			service("dns", "ClusterIP", port("tcp", "TCP", 53, 0)),
			service("dns", "NodePort", port("tcp", "TCP", 53, 0), port("udp", "UDP", 53, 0)), "[a b]", 2, 2},
		{"to ClusterIP releases on commit",
			service("web", "NodePort", port("http", "TCP", 80, 30001)),
			service("web", "ClusterIP", port("http", "TCP", 80, 0)), "[0]", 1, 0},
		{"removed port released on commit",
			service("web", "NodePort", port("http", "TCP", 80, 30001), port("alt", "TCP", 81, 30002)),
			service("web", "NodePort", port("http", "TCP", 80, 30001)), "[30001]", 2, 1},
		{"kept and new requested",
			service("web", "NodePort", port("http", "TCP", 80, 30001)),
			service("web", "NodePort", port("http", "TCP", 80, 30001), port("alt", "TCP", 81, 30002), port("alt-udp", "UDP", 81, 30002)),
			"[30001 30002 30002]", 2, 2},
		{"new requested taken",
			service("web", "NodePort", port("http", "TCP", 80, 30001)),
			service("web", "NodePort", port("http", "TCP", 80, 0), port("alt", "TCP", 81, 30080)),
			`The Service "web" is invalid: spec.ports[1].nodePort: Invalid value: 30080: provided port is already allocated`, 1, 1},
		{"to lb local allocates a health check port",
			service("lb", "LoadBalancer", port("http", "TCP", 80, 30001)),
			lbLocal(0, port("http", "TCP", 80, 30001)), "[30001]", 2, 2},
		{"from lb local releases it on commit",
			lbLocal(30002, port("http", "TCP", 80, 30001)),
			service("lb", "LoadBalancer", port("http", "TCP", 80, 30001)), "[30001]", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAllocators(t, "")
			_ = a.NodePorts.Allocate(30080)
			for _, np := range append(nodePorts(tt.old), tt.old.Spec.HealthCheckNodePort) {
				_ = a.NodePorts.Allocate(int(np))
			}
			base := a.NodePorts.Used() - 1 // minus 30080
			txn, err := a.Update(tt.new, tt.old, false)
			got := kubectlText(err)
			if err == nil {
				got = letters(nodePorts(tt.new))
			}
			if got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
			if n := a.NodePorts.Used() - 1; n != tt.ports {
				t.Errorf("reserved %d (was %d), want %d", n, base, tt.ports)
			}
			_ = txn.Commit()
			if n := a.NodePorts.Used() - 1; n != tt.afterCommit {
				t.Errorf("after Commit %d reserved, want %d", n, tt.afterCommit)
			}
		})
	}
}

// A failed write reverts: new values are freed, old ones kept.
func TestUpdateRevert(t *testing.T) {
	a := newAllocators(t, "")
	old := service("web", "NodePort", port("http", "TCP", 80, 30001))
	_ = a.NodePorts.Allocate(30001)
	svc := service("web", "NodePort", port("alt", "TCP", 81, 0))
	txn, err := a.Update(svc, old, false)
	if err != nil {
		t.Fatal(err)
	}
	_, ports := txn.Allocated()
	if len(ports) != 1 || a.NodePorts.Used() != 2 {
		t.Fatalf("allocated %v, used %d", ports, a.NodePorts.Used())
	}
	if err := txn.Revert(); err != nil {
		t.Fatal(err)
	}
	if !a.NodePorts.Has(30001) || a.NodePorts.Has(ports[0]) || a.NodePorts.Used() != 1 {
		t.Errorf("after Revert: used %d", a.NodePorts.Used())
	}
	if txn.Commit() != nil || !a.NodePorts.Has(30001) {
		t.Error("Commit after Revert released the old port")
	}
}

func TestUpdateClusterIPs(t *testing.T) {
	single := func(typ v1.ServiceType, ips ...string) *v1.Service {
		svc := service("web", typ, port("http", "TCP", 80, 0))
		svc.Spec.ClusterIPs = ips
		for _, ip := range ips {
			svc.Spec.IPFamilies = append(svc.Spec.IPFamilies, familyOf(ip))
		}
		if len(ips) > 0 {
			svc.Spec.ClusterIP = ips[0]
		}
		return svc
	}
	upgraded := single("ClusterIP", "10.96.0.5")
	upgraded.Spec.IPFamilies = append(upgraded.Spec.IPFamilies, v1.IPv6Protocol)
	tests := []struct {
		name        string
		old, new    *v1.Service
		want        []string // clusterIPs of new ("*" for any)
		used, after int      // IPs reserved before and after Commit
	}{
		{"from ExternalName", single("ExternalName"), single("ClusterIP"), []string{"*"}, 1, 1},
		{"to ExternalName", single("ClusterIP", "10.96.0.5"), single("ExternalName"), nil, 1, 0},
		{"upgrade", single("ClusterIP", "10.96.0.5"), upgraded, []string{"10.96.0.5", "*"}, 2, 2},
		{"downgrade", single("ClusterIP", "10.96.0.5", "fd00::5"), single("ClusterIP", "10.96.0.5"), []string{"10.96.0.5"}, 2, 1},
		{"no change", single("ClusterIP", "10.96.0.5"), single("NodePort", "10.96.0.5"), []string{"10.96.0.5"}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAllocators(t, "", "10.96.0.0/12", "fd00::/108")
			Repair(a, []*v1.Service{tt.old})
			txn, err := a.Update(tt.new, tt.old, false)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Clone(tt.new.Spec.ClusterIPs)
			for i := range got {
				if i < len(tt.want) && tt.want[i] == "*" {
					got[i] = "*"
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("clusterIPs = %v, want %v", tt.new.Spec.ClusterIPs, tt.want)
			}
			if ips, _ := used(a); ips != tt.used {
				t.Errorf("used %d, want %d", ips, tt.used)
			}
			_ = txn.Commit()
			if ips, _ := used(a); ips != tt.after {
				t.Errorf("after Commit used %d, want %d", ips, tt.after)
			}
		})
	}
}
