package hostport

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"
)

// conformancePods are the pods of upstream's HostPort conformance spec:
// one hostPort on 127.0.0.1 and on the node's IP over TCP and UDP.
func conformancePod(hostIP string, proto corev1.Protocol) *corev1.Pod {
	return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "agnhost", Ports: []corev1.ContainerPort{
		{HostPort: 54323, ContainerPort: 8080, Protocol: proto, HostIP: hostIP}}}}}}
}

func TestForPod(t *testing.T) {
	ip := netip.MustParseAddr("10.244.0.5")
	got := ForPod(conformancePod("127.0.0.1", corev1.ProtocolTCP), ip)
	want := []Mapping{{Protocol: corev1.ProtocolTCP, HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 54323, PodIP: ip, ContainerPort: 8080}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	any := ForPod(conformancePod("0.0.0.0", ""), ip)
	if len(any) != 1 || any[0].HostIP.IsValid() || any[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("unspecified hostIP: %v", any)
	}
	if ms := ForPod(conformancePod("::1", corev1.ProtocolTCP), ip); len(ms) != 0 {
		t.Errorf("other family: %v", ms)
	}
	host := conformancePod("", corev1.ProtocolTCP)
	host.Spec.HostNetwork = true
	if ms := ForPod(host, ip); len(ms) != 0 {
		t.Errorf("hostNetwork: %v", ms)
	}
	noHost := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}}}
	if ms := ForPod(noHost, ip); len(ms) != 0 {
		t.Errorf("no hostPort: %v", ms)
	}
}

func TestSync(t *testing.T) {
	v4 := knftables.NewFake(knftables.IPv4Family, TableName)
	v6 := knftables.NewFake(knftables.IPv6Family, TableName)
	var cleared []Mapping
	sysctls := map[string]string{}
	tab := New(v4, v6, "svcbr0", func(m Mapping) error { cleared = append(cleared, m); return nil },
		func(n, v string) error { sysctls[n] = v; return nil }, nil)
	node := "10.240.0.2"
	var ms []Mapping
	for i, p := range []struct {
		hostIP string
		proto  corev1.Protocol
	}{{"127.0.0.1", corev1.ProtocolTCP}, {node, corev1.ProtocolTCP}, {node, corev1.ProtocolUDP}} {
		ms = append(ms, ForPod(conformancePod(p.hostIP, p.proto), netip.AddrFrom4([4]byte{10, 244, 0, byte(5 + i)}))...)
	}
	ctx := context.Background()
	if err := tab.Sync(ctx, ms); err != nil {
		t.Fatal(err)
	}
	dump := v4.Dump()
	for _, want := range []string{
		"add chain ip svcplane-hostport prerouting { type nat hook prerouting priority -100 ; }",
		"add chain ip svcplane-hostport output { type nat hook output priority -100 ; }",
		"add rule ip svcplane-hostport output fib daddr type local jump hostports",
		"add rule ip svcplane-hostport hostports ip daddr 127.0.0.1 tcp dport 54323 dnat to 10.244.0.5:8080",
		"add rule ip svcplane-hostport hostports ip daddr 10.240.0.2 tcp dport 54323 dnat to 10.244.0.6:8080",
		"add rule ip svcplane-hostport hostports ip daddr 10.240.0.2 udp dport 54323 dnat to 10.244.0.7:8080",
		"add rule ip svcplane-hostport postrouting ct status dnat ip saddr 127.0.0.0/8 ip daddr 10.244.0.5 tcp dport 8080 masquerade",
		"add rule ip svcplane-hostport postrouting ct status dnat ip saddr 10.244.0.5 ip daddr 10.244.0.5 tcp dport 8080 masquerade",
	} {
		if !strings.Contains(dump, want+"\n") {
			t.Errorf("missing %q in\n%s", want, dump)
		}
	}
	if sysctls["net/ipv4/conf/svcbr0/route_localnet"] != "1" {
		t.Errorf("route_localnet: %v", sysctls)
	}
	if len(cleared) != 1 || cleared[0].Protocol != corev1.ProtocolUDP {
		t.Errorf("cleared %v, want the UDP mapping", cleared)
	}
	if d := v6.Dump(); d != "" {
		t.Errorf("ip6 table without IPv6 pods:\n%s", d)
	}
	// Again with the UDP pod only: nothing else is left, and its flows
	// are not cleared twice.
	if err := tab.Sync(ctx, ms[2:]); err != nil {
		t.Fatal(err)
	}
	if d := v4.Dump(); strings.Contains(d, "10.244.0.5") || !strings.Contains(d, "10.244.0.7:8080") || len(cleared) != 1 {
		t.Errorf("after removal (cleared %d):\n%s", len(cleared), d)
	}
	if err := tab.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if d := v4.Dump(); d != "" {
		t.Errorf("table left without mappings:\n%s", d)
	}
}

func TestIPv6Rules(t *testing.T) {
	m := Mapping{Protocol: corev1.ProtocolSCTP, HostIP: netip.MustParseAddr("fd00::2"), HostPort: 80, PodIP: netip.MustParseAddr("fd00:10::5"), ContainerPort: 8080}
	if got, want := dnatRule(m), "ip6 daddr fd00::2 sctp dport 80 dnat to [fd00:10::5]:8080"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := masqueradeRules(m)[1]; got != "ct status dnat ip6 saddr ::1 ip6 daddr fd00:10::5 sctp dport 8080 masquerade" {
		t.Errorf("loopback rule %q", got)
	}
}
