package podnet

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// vtep is node() publishing a VXLAN endpoint with MAC mac.
func vtep(name, ip, cidr, mac string) *corev1.Node {
	n := node(name, ip, cidr)
	m, _ := net.ParseMAC(mac)
	n.Annotations = VTEPAnnotations(m, netip.MustParseAddr(ip))
	return n
}

func TestVTEPAnnotations(t *testing.T) {
	m, _ := net.ParseMAC("0a:58:0a:f4:01:00")
	got := VTEPAnnotations(m, netip.MustParseAddr("10.240.0.5"))
	want := map[string]string{
		"flannel.alpha.coreos.com/backend-type":        "vxlan",
		"flannel.alpha.coreos.com/backend-data":        `{"VNI":1,"VtepMAC":"0a:58:0a:f4:01:00"}`,
		"flannel.alpha.coreos.com/public-ip":           "10.240.0.5",
		"flannel.alpha.coreos.com/kube-subnet-manager": "true",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("annotations:\n%v\nwant\n%v", got, want)
	}
}

// plan prints a plan one line per entry.
func plan(p Plan) string {
	var b strings.Builder
	for _, r := range p.HostGW {
		fmt.Fprintf(&b, "route %s via %s\n", r.CIDR, r.Via)
	}
	for _, o := range p.Overlay {
		fmt.Fprintf(&b, "neigh %s lladdr %s\nfdb %s dst %s\nroute %s via %s onlink\n", o.VTEP, o.MAC, o.MAC, o.Remote, o.CIDR, o.VTEP)
	}
	for _, err := range p.Skipped {
		fmt.Fprintf(&b, "skipped: %v\n", err)
	}
	return b.String()
}

func TestPlanFor(t *testing.T) {
	badData := vtep("bad", "10.240.0.9", "10.244.9.0/24", "0a:00:00:00:00:09")
	badData.Annotations[BackendDataAnnotation] = `{"VNI":2,"VtepMAC":"0a:00:00:00:00:09"}`
	nodes := []*corev1.Node{
		vtep("a", "10.240.0.2", "10.244.0.0/24", "0a:00:00:00:00:01"),
		vtep("b", "10.240.0.3", "10.244.1.0/24", "0a:00:00:00:00:02"),
		vtep("joined", "10.240.0.5", "10.244.3.0/24", "0a:00:00:00:00:03"),
		node("hostgw", "10.240.0.6", "10.244.4.0/24"),
		vtep("no-cidr", "10.240.0.7", "", "0a:00:00:00:00:07"),
		badData,
	}
	cases := []struct {
		name, self string
		local      []string
		hostGW     bool
		want       string
	}{
		{name: "up's node: host-gw to its fabric and to nodes without a VTEP, overlay to the joined", self: "a", local: []string{"a", "b"}, hostGW: true, want: `route 10.244.1.0/24 via 10.240.0.3
route 10.244.4.0/24 via 10.240.0.6
route 10.244.9.0/24 via 10.240.0.9
neigh 10.244.3.0 lladdr 0a:00:00:00:00:03
fdb 0a:00:00:00:00:03 dst 10.240.0.5
route 10.244.3.0/24 via 10.244.3.0 onlink
skipped: node no-cidr: vxlan annotations without a pod CIDR, flannel.alpha.coreos.com/backend-data or flannel.alpha.coreos.com/public-ip
skipped: node bad: vxlan annotations without a pod CIDR, flannel.alpha.coreos.com/backend-data or flannel.alpha.coreos.com/public-ip
`},
		{name: "joined machine: overlay only", self: "joined", local: []string{"joined"}, want: `neigh 10.244.0.0 lladdr 0a:00:00:00:00:01
fdb 0a:00:00:00:00:01 dst 10.240.0.2
route 10.244.0.0/24 via 10.244.0.0 onlink
neigh 10.244.1.0 lladdr 0a:00:00:00:00:02
fdb 0a:00:00:00:00:02 dst 10.240.0.3
route 10.244.1.0/24 via 10.244.1.0 onlink
skipped: node no-cidr: vxlan annotations without a pod CIDR, flannel.alpha.coreos.com/backend-data or flannel.alpha.coreos.com/public-ip
skipped: node bad: vxlan annotations without a pod CIDR, flannel.alpha.coreos.com/backend-data or flannel.alpha.coreos.com/public-ip
`},
		{name: "alone: nothing", self: "a", local: []string{"a"}, want: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := nodes
			if c.want == "" {
				in = nodes[:1]
			}
			if got := plan(PlanFor(c.self, c.local, c.hostGW, in)); got != c.want {
				t.Errorf("plan of %s:\n%s\nwant\n%s", c.self, got, c.want)
			}
		})
	}
}

// TestPlanForNodeGone: a Node that goes leaves no entry in the plan, so
// the next apply removes its route, neighbour and forwarding entry.
func TestPlanForNodeGone(t *testing.T) {
	a := vtep("a", "10.240.0.2", "10.244.0.0/24", "0a:00:00:00:00:01")
	j := vtep("joined", "10.240.0.5", "10.244.3.0/24", "0a:00:00:00:00:03")
	if got := PlanFor("a", []string{"a"}, false, []*corev1.Node{a, j}); len(got.Overlay) != 1 {
		t.Fatalf("with the joined node: %+v", got)
	}
	if got := PlanFor("a", []string{"a"}, false, []*corev1.Node{a}); len(got.Overlay)+len(got.HostGW) != 0 {
		t.Errorf("after the joined node went: %+v", got)
	}
}
