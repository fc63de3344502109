package tracer

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// testSave is a Service of three endpoints as kube-proxy's iptables mode
// writes it, with ClientIP affinity.
const testSave = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-WEB - [0:0]
:KUBE-SEP-A - [0:0]
:KUBE-SEP-B - [0:0]
:KUBE-SEP-C - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m comment --comment "default/web cluster IP" -m tcp --dport 80 -j KUBE-SVC-WEB
-A KUBE-SVC-WEB ! -s 10.244.0.0/16 -d 10.96.0.20/32 -p tcp -m comment --comment "default/web cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-WEB -m recent --name KUBE-SEP-A --rcheck --seconds 10800 --reap -j KUBE-SEP-A
-A KUBE-SVC-WEB -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-A
-A KUBE-SVC-WEB -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-B
-A KUBE-SVC-WEB -j KUBE-SEP-C
-A KUBE-SEP-A -p tcp -m recent --set --name KUBE-SEP-A --rsource -m tcp -j DNAT --to-destination 10.244.0.5:8080
-A KUBE-SEP-B -p tcp -m tcp -j DNAT --to-destination 10.244.0.6:8080
-A KUBE-SEP-C -p tcp -m tcp -j DNAT --to-destination 10.244.0.7:8080
COMMIT
`

// summary prints paths a line each: endpoint, masq, chance and the last
// rule.
func summary(paths []Path) string {
	var lines []string
	total := 0.0
	for _, p := range paths {
		total += p.Prob
		last := ""
		if len(p.Rules) > 0 {
			last = p.Rules[len(p.Rules)-1]
		}
		lines = append(lines, fmt.Sprintf("%s masq=%v %.3f (%d rules, last %s)", p.To, p.Masq, p.Prob, len(p.Rules), last))
	}
	return fmt.Sprintf("total %.3f\n%s", total, strings.Join(lines, "\n"))
}

func TestExplainIPTables(t *testing.T) {
	tr, err := NewIPTables(testSave, []netip.Addr{netip.MustParseAddr("192.168.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	pkt := Packet{Protocol: corev1.ProtocolTCP, Src: netip.MustParseAddr("10.244.0.9"), Dst: netip.MustParseAddr("10.96.0.20"), Port: 80}
	paths := tr.Explain(pkt)
	want := map[string]float64{"10.244.0.5:8080": 1.0 / 3, "10.244.0.6:8080": 1.0 / 3, "10.244.0.7:8080": 1.0 / 3}
	got := map[string]float64{}
	for _, p := range paths {
		got[p.To] += p.Prob
		if p.Masq {
			t.Errorf("a pod's packet is not masqueraded: %+v", p)
		}
	}
	for ep, prob := range want {
		if math.Abs(got[ep]-prob) > 1e-6 {
			t.Errorf("%s: chance %.4f, want %.4f\n%s", ep, got[ep], prob, summary(paths))
		}
	}
	// The affinity path is there, with no chance for a new client.
	if len(paths) != 4 || paths[0].Prob != 0 || !strings.Contains(paths[0].Rules[2], "--rcheck") {
		t.Errorf("want the affinity path first, with chance 0:\n%s", summary(paths))
	}
	wantRules := []string{
		`nat: -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
		`nat: -A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m comment --comment "default/web cluster IP" -m tcp --dport 80 -j KUBE-SVC-WEB`,
		`nat: -A KUBE-SVC-WEB -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-B`,
		`nat: -A KUBE-SEP-B -p tcp -m tcp -j DNAT --to-destination 10.244.0.6:8080`,
		`nat: -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
		`nat: -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN`,
	}
	if got := strings.Join(paths[2].Rules, "\n"); got != strings.Join(wantRules, "\n") {
		t.Errorf("the way to B:\n%s\nwant:\n%s", got, strings.Join(wantRules, "\n"))
	}
	// From outside the pod network: marked, then masqueraded.
	pkt.Src = netip.MustParseAddr("192.168.0.2")
	for _, p := range tr.Explain(pkt) {
		if p.Prob > 0 && !p.Masq {
			t.Errorf("from the node, not masqueraded: %+v", p)
		}
	}
}

func TestExplainNFTables(t *testing.T) {
	tr, err := NewNFTables(testListing, []netip.Addr{netip.MustParseAddr("192.168.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	paths := tr.Explain(Packet{Protocol: corev1.ProtocolTCP, Src: netip.MustParseAddr("10.0.0.9"), Dst: netip.MustParseAddr("172.16.0.1"), Port: 80})
	if len(paths) != 2 {
		t.Fatalf("want two ways:\n%s", summary(paths))
	}
	for i, ep := range []string{"10.1.0.1:8080", "10.1.0.2:8080"} {
		p := paths[i]
		if p.To != ep || p.Prob != 0.5 {
			t.Errorf("path %d: %s %.3f, want %s 0.5", i, p.To, p.Prob, ep)
		}
		rules := strings.Join(p.Rules, "\n")
		if !strings.Contains(rules, "random-2: dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 2 map @endpoints") ||
			!strings.Contains(rules, "  @endpoints: 172.16.0.1 . tcp . 80 . "+fmt.Sprint(i)+" : "+strings.Replace(ep, ":", " . ", 1)) ||
			strings.Contains(rules, "@sticky") {
			t.Errorf("path %d rules:\n%s", i, rules)
		}
	}
	drop := tr.Explain(Packet{Protocol: corev1.ProtocolTCP, Src: netip.MustParseAddr("10.0.0.9"), Dst: netip.MustParseAddr("172.16.0.5"), Port: 80})
	if len(drop) != 1 || drop[0].To != Drop || drop[0].Prob != 1 {
		t.Errorf("a dropped service:\n%s", summary(drop))
	}
}
