package proxy

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func ep(ip string, ready, serving, terminating, local bool, zones ...string) Endpoint {
	return Endpoint{IP: netip.MustParseAddr(ip), Port: 80, Ready: ready, Serving: serving, Terminating: terminating, Local: local, ZoneHints: zones}
}

func list(eps []Endpoint) string {
	var s []string
	for _, e := range eps {
		s = append(s, e.IP.String())
	}
	return strings.Join(s, ",")
}

func TestCategorize(t *testing.T) {
	zoneA := Node{Name: "n1", Labels: map[string]string{corev1.LabelTopologyZone: "a"}}
	cases := []struct {
		name                string
		sp                  ServicePort
		node                Node
		eps                 []Endpoint
		cluster, local, all string
		hasAny              bool
	}{
		{
			name:    "cluster policy uses ready endpoints",
			sp:      ServicePort{},
			eps:     []Endpoint{ep("10.0.0.1", true, true, false, false), ep("10.0.0.2", false, false, false, true)},
			cluster: "10.0.0.1", all: "10.0.0.1", hasAny: true,
		},
		{
			name:    "serving terminating endpoints when none is ready",
			sp:      ServicePort{},
			eps:     []Endpoint{ep("10.0.0.1", false, true, true, false), ep("10.0.0.2", false, false, true, false)},
			cluster: "10.0.0.1", all: "10.0.0.1", hasAny: true,
		},
		{
			name:   "no endpoints",
			sp:     ServicePort{},
			eps:    []Endpoint{ep("10.0.0.2", false, false, false, true)},
			hasAny: false,
		},
		{
			name:  "internal policy Local uses only local endpoints",
			sp:    ServicePort{InternalPolicyLocal: true},
			eps:   []Endpoint{ep("10.0.0.1", true, true, false, false), ep("10.0.0.2", true, true, false, true)},
			local: "10.0.0.2", all: "10.0.0.2", hasAny: true,
		},
		{
			name:   "internal policy Local without local endpoints still has endpoints",
			sp:     ServicePort{InternalPolicyLocal: true},
			eps:    []Endpoint{ep("10.0.0.1", true, true, false, false)},
			hasAny: true,
		},
		{
			name:    "external policy Local falls back to local terminating endpoints",
			sp:      ServicePort{NodePort: 30001, ExternalPolicyLocal: true},
			eps:     []Endpoint{ep("10.0.0.1", true, true, false, false), ep("10.0.0.2", false, true, true, true)},
			cluster: "10.0.0.1", local: "10.0.0.2", all: "10.0.0.1,10.0.0.2", hasAny: true,
		},
		{
			name:    "PreferClose keeps the zone's endpoints",
			sp:      ServicePort{TrafficDistribution: "PreferClose"},
			node:    zoneA,
			eps:     []Endpoint{ep("10.0.0.1", true, true, false, false, "a"), ep("10.0.0.2", true, true, false, false, "b")},
			cluster: "10.0.0.1", all: "10.0.0.1", hasAny: true,
		},
		{
			name:    "topology is ignored when an endpoint lacks hints",
			sp:      ServicePort{TrafficDistribution: "PreferClose"},
			node:    zoneA,
			eps:     []Endpoint{ep("10.0.0.1", true, true, false, false, "a"), ep("10.0.0.2", true, true, false, false)},
			cluster: "10.0.0.1,10.0.0.2", all: "10.0.0.1,10.0.0.2", hasAny: true,
		},
		{
			name:    "topology is ignored without the annotation or field",
			sp:      ServicePort{},
			node:    zoneA,
			eps:     []Endpoint{ep("10.0.0.1", true, true, false, false, "a"), ep("10.0.0.2", true, true, false, false, "b")},
			cluster: "10.0.0.1,10.0.0.2", all: "10.0.0.1,10.0.0.2", hasAny: true,
		},
		{
			name:    "topology-mode Auto annotation",
			sp:      ServicePort{HintsAnnotation: "Auto"},
			node:    zoneA,
			eps:     []Endpoint{ep("10.0.0.1", true, true, false, false, "a"), ep("10.0.0.2", true, true, false, false, "b")},
			cluster: "10.0.0.1", all: "10.0.0.1", hasAny: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Categorize(c.eps, &c.sp, c.node)
			if list(got.Cluster) != c.cluster || list(got.Local) != c.local || list(got.AllReachable) != c.all || got.HasAny != c.hasAny {
				t.Errorf("got cluster=%s local=%s all=%s any=%v; want cluster=%s local=%s all=%s any=%v",
					list(got.Cluster), list(got.Local), list(got.AllReachable), got.HasAny, c.cluster, c.local, c.all, c.hasAny)
			}
		})
	}
}

func TestSliceEndpointsMergesDuplicates(t *testing.T) {
	port := []discoveryv1.EndpointPort{{Name: ptr.To("dns"), Port: ptr.To[int32](53), Protocol: ptr.To(corev1.ProtocolUDP)}}
	a := &discoveryv1.EndpointSlice{Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.2"}}, {Addresses: []string{"10.0.0.1"}}}, Ports: port}
	b := &discoveryv1.EndpointSlice{Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("n1")}, {Addresses: nil}}, Ports: port}
	nn := types.NamespacedName{Namespace: "kube-system", Name: "kube-dns"}
	got := SliceEndpoints(nn, []*discoveryv1.EndpointSlice{a, b}, "n1")
	name := ServicePortName{NamespacedName: nn, Port: "dns", Protocol: corev1.ProtocolUDP}
	eps := got[name]
	if len(got) != 1 || list(eps) != "10.0.0.1,10.0.0.2" || !eps[0].Local || eps[1].Local {
		t.Fatalf("got %+v", got)
	}
}

func TestStaleFlows(t *testing.T) {
	sp := &ServicePort{Protocol: corev1.ProtocolUDP, ClusterIP: netip.MustParseAddr("10.96.0.10"), Port: 53}
	one := &ServiceState{ServicePort: sp, Categorized: Categorized{AllReachable: []Endpoint{ep("10.244.0.5", true, true, false, false)}}}
	other := &ServiceState{ServicePort: sp, Categorized: Categorized{AllReachable: []Endpoint{ep("10.244.0.6", true, true, false, false)}}}
	none := &ServiceState{ServicePort: sp}
	cases := []struct {
		name          string
		before, after *ServiceState
		want          string
	}{
		{"endpoint replaced", one, other, "10.96.0.10:53<-10.244.0.5"},
		{"first endpoint", none, one, "10.96.0.10:53"},
		{"unchanged", one, one, ""},
		{"service removed", one, nil, "10.96.0.10:53<-10.244.0.5"},
		{"new service with an endpoint", nil, one, "10.96.0.10:53"},
		{"new service without endpoints", nil, none, ""},
	}
	for _, c := range cases {
		var got []string
		for _, f := range staleFlows(c.before, c.after) {
			s := f.OrigDst.String() + ":" + PortString(f.DstPort)
			if f.ReplySrc.IsValid() {
				s += "<-" + f.ReplySrc.String()
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// recordingConntrack notes the flows it is asked to delete.
type recordingConntrack struct{ flows []Flow }

func (r *recordingConntrack) Delete(_ context.Context, f Flow) (int, error) {
	r.flows = append(r.flows, f)
	return 0, nil
}

func TestClearStaleAfterStart(t *testing.T) {
	udp := &ServicePort{Name: ServicePortName{Port: "dns", Protocol: corev1.ProtocolUDP}, Protocol: corev1.ProtocolUDP, ClusterIP: netip.MustParseAddr("10.96.0.10"), Port: 53}
	tcp := &ServicePort{Name: ServicePortName{Port: "web", Protocol: corev1.ProtocolTCP}, Protocol: corev1.ProtocolTCP, ClusterIP: netip.MustParseAddr("10.96.0.11"), Port: 80}
	reach := Categorized{AllReachable: []Endpoint{ep("10.244.0.5", true, true, false, false)}}
	cur := &State{Services: []*ServiceState{{ServicePort: udp, Categorized: reach}, {ServicePort: tcp, Categorized: reach}}}
	ct := &recordingConntrack{}
	clearStale(context.Background(), ct, nil, cur, slog.New(slog.DiscardHandler))
	if len(ct.flows) != 1 || ct.flows[0].OrigDst != udp.ClusterIP || ct.flows[0].ReplySrc.IsValid() {
		t.Errorf("first sync: want the UDP port's untranslated flows cleared, got %+v", ct.flows)
	}
}
