package allocator

import (
	"net/netip"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newAllocators(t testing.TB, ports string, cidrs ...string) *Allocators {
	t.Helper()
	cfg := Config{NodePortRange: ports}
	for _, c := range cidrs {
		cfg.ServiceCIDRs = append(cfg.ServiceCIDRs, netip.MustParsePrefix(c))
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func service(name string, typ v1.ServiceType, ports ...v1.ServicePort) *v1.Service {
	return &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       v1.ServiceSpec{Type: typ, Ports: ports},
	}
}

func port(name string, proto v1.Protocol, p, nodePort int32) v1.ServicePort {
	return v1.ServicePort{Name: name, Protocol: proto, Port: p, NodePort: nodePort}
}

func nodePorts(svc *v1.Service) []int32 {
	var out []int32
	for _, p := range svc.Spec.Ports {
		out = append(out, p.NodePort)
	}
	return out
}

func used(a *Allocators) (ips, ports int) {
	for _, ip := range a.IPs {
		ips += ip.Used()
	}
	return ips, a.NodePorts.Used()
}

func TestNewAllocators(t *testing.T) {
	a := newAllocators(t, "")
	if a.Primary != v1.IPv4Protocol || a.NodePorts.(*PortRange).String() != DefaultNodePortRange {
		t.Errorf("defaults: %s %v", a.Primary, a.NodePorts)
	}
	if got := a.IPs[v1.IPv4Protocol].(*IPRange).FirstAddress().String(); got != "10.96.0.1" {
		t.Errorf("kubernetes Service IP = %s", got)
	}
	bad := []Config{
		{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("10.1.0.0/24")}},
		{NodePortRange: "x"},
	}
	for _, cfg := range bad {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%v) succeeded", cfg)
		}
	}
}

func TestCreateClusterIP(t *testing.T) {
	a := newAllocators(t, "", "10.96.0.0/12", "fd00:10:96::/108")
	taken := service("taken", v1.ServiceTypeClusterIP)
	taken.Spec.ClusterIP = "10.96.0.50"
	if _, err := a.Create(taken, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		ips      []string
		families []v1.IPFamily
		typ      v1.ServiceType
		want     string // kubectl text of the error, or the resulting spec.clusterIPs
	}{
		{"dynamic", nil, nil, v1.ServiceTypeClusterIP, "dynamic IPv4"},
		{"requested static band", []string{"10.96.0.10"}, nil, v1.ServiceTypeClusterIP, "[10.96.0.10]"},
		{"dual", nil, []v1.IPFamily{"IPv4", "IPv6"}, v1.ServiceTypeClusterIP, "dynamic IPv4 IPv6"},
		{"dual requested", []string{"10.96.0.11", "fd00:10:96::11"}, []v1.IPFamily{"IPv4", "IPv6"}, v1.ServiceTypeClusterIP, "[10.96.0.11 fd00:10:96::11]"},
		{"ipv6 only", nil, []v1.IPFamily{"IPv6"}, v1.ServiceTypeClusterIP, "dynamic IPv6"},
		{"headless", []string{"None"}, nil, v1.ServiceTypeClusterIP, "[None]"},
		{"external name", nil, nil, v1.ServiceTypeExternalName, "[]"},
		{"taken", []string{"10.96.0.50"}, nil, v1.ServiceTypeClusterIP,
			`The Service "web" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.50"]: failed to allocate IP 10.96.0.50: provided IP is already allocated`},
		{"out of range", []string{"1.1.1.1"}, nil, v1.ServiceTypeClusterIP,
			`The Service "web" is invalid: spec.clusterIPs: Invalid value: ["1.1.1.1"]: failed to allocate IP 1.1.1.1: the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12`},
		{"secondary taken", []string{"", "fd00:10:96::11"}, []v1.IPFamily{"IPv4", "IPv6"}, v1.ServiceTypeClusterIP,
			`The Service "web" is invalid: spec.clusterIPs: Invalid value: ["","fd00:10:96::11"]: failed to allocate IP fd00:10:96::11: provided IP is already allocated`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lowestFirst(a.IPs[v1.IPv4Protocol].(*IPRange).bits)
			svc := service("web", tt.typ, port("http", v1.ProtocolTCP, 80, 0))
			svc.Spec.ClusterIPs, svc.Spec.IPFamilies = tt.ips, tt.families
			beforeIPs, _ := used(a)
			txn, err := a.Create(svc, false)
			if err != nil {
				if got := kubectlText(err); got != tt.want {
					t.Errorf("error\n got %s\nwant %s", got, tt.want)
				}
				if afterIPs, _ := used(a); afterIPs != beforeIPs {
					t.Errorf("failed create leaked: used %d -> %d", beforeIPs, afterIPs)
				}
				return
			}
			checkClusterIPs(t, a, svc, tt.want)
			if err := txn.Commit(); err != nil {
				t.Error(err)
			}
		})
	}
}

// checkClusterIPs compares spec.clusterIPs with want: a literal list, or
// "dynamic" and the families allocated in the dynamic bands.
func checkClusterIPs(t *testing.T, a *Allocators, svc *v1.Service, want string) {
	t.Helper()
	got := svc.Spec.ClusterIPs
	if want[0] == '[' {
		if s := "[" + joinSpace(got) + "]"; s != want {
			t.Errorf("clusterIPs = %s, want %s", s, want)
		}
		return
	}
	if len(got) == 0 || svc.Spec.ClusterIP != got[0] || len(svc.Spec.IPFamilies) != len(got) {
		t.Fatalf("clusterIP %q, clusterIPs %v, families %v", svc.Spec.ClusterIP, got, svc.Spec.IPFamilies)
	}
	if "dynamic "+joinSpace(familyNames(svc.Spec.IPFamilies)) != want {
		t.Errorf("families %v, want %s", svc.Spec.IPFamilies, want)
	}
	for i, ip := range got {
		r := a.IPs[svc.Spec.IPFamilies[i]].(*IPRange)
		if off, ok := r.offset(netip.MustParseAddr(ip)); !ok || off < r.bits.band || !r.Has(netip.MustParseAddr(ip)) {
			t.Errorf("%s is not a reserved dynamic-band address of %s", ip, r)
		}
	}
}

func joinSpace[T ~string](xs []T) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += string(x)
	}
	return s
}

func familyNames(fs []v1.IPFamily) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f))
	}
	return out
}

func TestCreateFamilyNotConfigured(t *testing.T) {
	a := newAllocators(t, "")
	svc := service("web", v1.ServiceTypeClusterIP)
	svc.Spec.IPFamilies = []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol}
	_, err := a.Create(svc, false)
	want := `The Service "web" is invalid: spec.ipFamilies[1]: Invalid value: "IPv6": not configured on this cluster`
	if got := kubectlText(err); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if ips, _ := used(a); ips != 0 {
		t.Errorf("the IPv4 address leaked")
	}
}

func TestCreateRangeFull(t *testing.T) {
	a := newAllocators(t, "30000-30001", "10.0.0.0/29")
	for range 6 {
		if _, err := a.Create(service("s", v1.ServiceTypeClusterIP), false); err != nil {
			t.Fatal(err)
		}
	}
	_, err := a.Create(service("s", v1.ServiceTypeClusterIP), false)
	if got, want := kubectlText(err), "Error from server (InternalError): Internal error occurred: failed to allocate a serviceIP: range is full"; got != want {
		t.Errorf("got %s", got)
	}
	b := newAllocators(t, "30000-30001", "10.0.0.0/24")
	svc := service("np", v1.ServiceTypeNodePort, port("a", "TCP", 1, 0), port("b", "TCP", 2, 0), port("c", "TCP", 3, 0))
	_, err = b.Create(svc, false)
	if got, want := kubectlText(err), "Error from server (InternalError): Internal error occurred: failed to allocate a nodePort: range is full"; got != want {
		t.Errorf("got %s", got)
	}
	if ips, ports := used(b); ips != 0 || ports != 0 {
		t.Errorf("failed create leaked %d IPs, %d ports", ips, ports)
	}
}

func TestCreateDryRun(t *testing.T) {
	a := newAllocators(t, "")
	svc := service("web", v1.ServiceTypeNodePort, port("http", "TCP", 80, 0))
	txn, err := a.Create(svc, true)
	if err != nil || svc.Spec.ClusterIP == "" || svc.Spec.Ports[0].NodePort == 0 {
		t.Fatalf("dry run: %v %+v", err, svc.Spec)
	}
	_ = txn.Commit()
	if ips, ports := used(a); ips != 0 || ports != 0 {
		t.Errorf("dry run reserved %d IPs, %d ports", ips, ports)
	}
	real := service("real", v1.ServiceTypeNodePort, port("http", "TCP", 80, 30080))
	if _, err := a.Create(real, false); err != nil {
		t.Fatal(err)
	}
	dry := service("web", v1.ServiceTypeNodePort, port("http", "TCP", 80, 30080))
	_, err = a.Create(dry, true)
	want := `The Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated`
	if got := kubectlText(err); got != want {
		t.Errorf("dry run error: %s", got)
	}
}

func TestRelease(t *testing.T) {
	a := newAllocators(t, "", "10.96.0.0/12", "fd00::/108")
	svc := service("lb", v1.ServiceTypeLoadBalancer, port("dns", "TCP", 53, 0), port("dns-udp", "UDP", 53, 0))
	svc.Spec.IPFamilies = []v1.IPFamily{v1.IPv6Protocol, v1.IPv4Protocol}
	svc.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicyLocal
	if _, err := a.Create(svc, false); err != nil {
		t.Fatal(err)
	}
	if ips, ports := used(a); ips != 2 || ports != 2 {
		t.Fatalf("used %d IPs, %d ports; want 2, 2 (53/TCP and 53/UDP share one)", ips, ports)
	}
	if err := a.Release(svc); err != nil {
		t.Fatal(err)
	}
	if ips, ports := used(a); ips != 0 || ports != 0 {
		t.Errorf("after Release: %d IPs, %d ports", ips, ports)
	}
	if !slices.Equal(svc.Spec.IPFamilies, []v1.IPFamily{"IPv6", "IPv4"}) || familyOf(svc.Spec.ClusterIP) != v1.IPv6Protocol {
		t.Errorf("primary family not kept: %v %v", svc.Spec.IPFamilies, svc.Spec.ClusterIPs)
	}
}
