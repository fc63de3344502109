package allocator

import (
	"errors"
	"net/netip"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func stored(ns, name string, typ v1.ServiceType, clusterIPs []string, ports ...v1.ServicePort) *v1.Service {
	svc := service(name, typ, ports...)
	svc.Namespace = ns
	svc.Spec.ClusterIPs = clusterIPs
	if len(clusterIPs) > 0 {
		svc.Spec.ClusterIP = clusterIPs[0]
	}
	return svc
}

func TestRepair(t *testing.T) {
	a := newAllocators(t, "", "10.96.0.0/12", "fd00::/108")
	hc := stored("kube-system", "lb", "LoadBalancer", []string{"10.96.0.20"}, port("dns", "UDP", 53, 30053))
	hc.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicyLocal
	hc.Spec.HealthCheckNodePort = 30053 // equal to a UDP node port: counted once, as upstream
	services := []*v1.Service{
		// Given out of order: Repair takes them in namespace/name order.
		stored("default", "b", "ClusterIP", []string{"10.96.0.10"}),
		stored("default", "a", "NodePort", []string{"10.96.0.10", "fd00::10"},
			port("dns", "TCP", 53, 30053), port("dns-udp", "UDP", 53, 30053)),
		stored("default", "kubernetes", "ClusterIP", []string{"10.96.0.1"}, port("https", "TCP", 443, 0)),
		stored("default", "c", "NodePort", []string{"10.0.0.1"}, port("http", "TCP", 80, 30053), port("x", "TCP", 81, 20000)),
		stored("default", "headless", "ClusterIP", []string{"None"}),
		stored("default", "ext", "ExternalName", nil),
		stored("default", "bad", "ClusterIP", []string{"not-an-ip"}),
		hc,
	}
	conflicts := Repair(a, services)
	want := []string{
		"the cluster IP 10.96.0.10 for service default/b was assigned to multiple services; please recreate",
		"the cluster IP not-an-ip for service default/bad can not be repaired: ParseAddr(\"not-an-ip\"): unable to parse IP",
		"the cluster IP 10.0.0.1 for service default/c is not within the service CIDR 10.96.0.0/12; please recreate",
		"the node port 30053 for service default/c was assigned to multiple services; please recreate",
		"the node port 20000 for service default/c is not within the port range 30000-32767; please recreate",
		"the node port 30053 for service kube-system/lb was assigned to multiple services; please recreate",
	}
	if len(conflicts) != len(want) {
		t.Fatalf("got %d conflicts: %v", len(conflicts), conflicts)
	}
	for i, c := range conflicts {
		if c.String() != want[i] {
			t.Errorf("conflict %d:\n got %s\nwant %s", i, c, want[i])
		}
	}
	if c := conflicts[0]; c.Holder != "default/a" || c.Field != "spec.clusterIPs[0]" || !errors.Is(c.Err, ErrAllocated) {
		t.Errorf("first conflict: %+v", c)
	}
	if c := conflicts[3]; c.Holder != "default/a" || c.Field != "spec.ports[0].nodePort" {
		t.Errorf("node port conflict: %+v", c)
	}
	for _, ip := range []string{"10.96.0.1", "10.96.0.10", "10.96.0.20", "fd00::10"} {
		addr := netip.MustParseAddr(ip)
		if !a.IPs[familyOf(ip)].Has(addr) {
			t.Errorf("%s not reserved", ip)
		}
	}
	if ips, ports := used(a); ips != 4 || ports != 1 {
		t.Errorf("reserved %d IPs, %d ports; want 4, 1", ips, ports)
	}
}

// After a repair, allocation never hands out what stored Services hold.
func TestRepairThenAllocate(t *testing.T) {
	a := newAllocators(t, "30000-30009", "10.0.0.0/29")
	var services []*v1.Service
	for i := range 5 {
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}).String()
		services = append(services, stored("default", ip, "NodePort", []string{ip}, port("p", "TCP", 80, int32(30000+i))))
	}
	if c := Repair(a, services); len(c) != 0 {
		t.Fatal(c)
	}
	svc := service("new", "NodePort", port("p", "TCP", 80, 0))
	if _, err := a.Create(svc, false); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "10.0.0.6" || svc.Spec.Ports[0].NodePort < 30005 {
		t.Errorf("got %s:%d", svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort)
	}
	_, err := a.Create(service("full", "ClusterIP"), false)
	if got := kubectlText(err); got != "Error from server (InternalError): Internal error occurred: failed to allocate a serviceIP: range is full" {
		t.Errorf("got %s", got)
	}
}
