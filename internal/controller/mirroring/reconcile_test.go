package mirroring

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func endpoints(subsets ...corev1.EndpointSubset) *corev1.Endpoints {
	return &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "ns", UID: "ep-uid",
			Labels:      map[string]string{"tier": "db"},
			Annotations: map[string]string{"note": "x", corev1.EndpointsLastChangeTriggerTime: "t", corev1.LastAppliedConfigAnnotation: "{}"}},
		Subsets: subsets,
	}
}

func subset(port int32, ready []string, notReady ...string) corev1.EndpointSubset {
	ss := corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Name: "db", Port: port, Protocol: corev1.ProtocolTCP}}}
	for _, ip := range ready {
		ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: ip})
	}
	for _, ip := range notReady {
		ss.NotReadyAddresses = append(ss.NotReadyAddresses, corev1.EndpointAddress{IP: ip})
	}
	return ss
}

func ips(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("10.1.%d.%d", i/200, i%200+1))
	}
	return out
}

// stored turns planned creates into stored slices named ext-1, ext-2...
func stored(p Plan) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for i, s := range p.Create {
		s = s.DeepCopy()
		s.Name, s.GenerateName = fmt.Sprintf("ext-%d", i+1), ""
		s.UID, s.ResourceVersion = types.UID(s.Name), "1"
		out = append(out, s)
	}
	return out
}

func describe(p Plan) string {
	var b strings.Builder
	line := func(verb string, s *discoveryv1.EndpointSlice) {
		name := s.Name
		if name == "" {
			name = s.GenerateName + "*"
		}
		var ports, eps []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s:%d", *p.Name, *p.Port))
		}
		for _, e := range s.Endpoints {
			if !*e.Conditions.Ready {
				eps = append(eps, "!"+e.Addresses[0])
			} else {
				eps = append(eps, e.Addresses[0])
			}
		}
		if len(eps) > 4 {
			eps = []string{fmt.Sprintf("%d endpoints", len(eps))}
		}
		fmt.Fprintf(&b, "%s %s %s [%s] %s\n", verb, name, s.AddressType, strings.Join(ports, " "), strings.Join(eps, " "))
	}
	for _, s := range p.Create {
		line("create", s)
	}
	for _, s := range p.Update {
		line("update", s)
	}
	for _, s := range p.Delete {
		fmt.Fprintf(&b, "delete %s\n", s.Name)
	}
	if p.Invalid+p.Skipped > 0 {
		fmt.Fprintf(&b, "invalid %d skipped %d\n", p.Invalid, p.Skipped)
	}
	return b.String()
}

func TestReconcile(t *testing.T) {
	base := endpoints(subset(5432, []string{"10.1.0.1", "10.1.0.2"}, "10.1.0.3"))
	baseSlices := stored(Reconcile(Input{Endpoints: base, MaxEndpointsPerSubset: 1000}))
	cases := []struct {
		name   string
		ep     *corev1.Endpoints
		slices []*discoveryv1.EndpointSlice
		want   string
	}{
		{"mirrored: ready and not ready", base, nil, "create ext-* IPv4 [db:5432] 10.1.0.1 10.1.0.2 !10.1.0.3\n"},
		{"unchanged: nothing to write", base, baseSlices, ""},
		{"address added: update", endpoints(subset(5432, []string{"10.1.0.1", "10.1.0.2", "10.1.0.4"}, "10.1.0.3")), baseSlices,
			"update ext-1 IPv4 [db:5432] 10.1.0.1 10.1.0.2 10.1.0.4 !10.1.0.3\n"},
		{"labels changed: update", func() *corev1.Endpoints { e := base.DeepCopy(); e.Labels["tier"] = "cache"; return e }(), baseSlices,
			"update ext-1 IPv4 [db:5432] 10.1.0.1 10.1.0.2 !10.1.0.3\n"},
		{"port changed: the slice is rewritten", endpoints(subset(6432, []string{"10.1.0.1"})), baseSlices,
			"update ext-1 IPv4 [db:6432] 10.1.0.1\n"},
		{"no addresses left: deleted", endpoints(), baseSlices, "delete ext-1\n"},
		{"one slice per address type and port list", endpoints(subset(1, []string{"10.1.0.1", "fd00::1"}), subset(2, []string{"10.1.0.1"})), nil,
			"create ext-* IPv4 [db:1] 10.1.0.1\ncreate ext-* IPv6 [db:1] fd00::1\ncreate ext-* IPv4 [db:2] 10.1.0.1\n"},
		{"extra slices of one group deleted", base, append(baseSlices, renamed(baseSlices[0], "ext-2")), "delete ext-2\n"},
		{"invalid addresses skipped", endpoints(subset(1, []string{"10.1.0.1", "bogus"})), nil,
			"create ext-* IPv4 [db:1] 10.1.0.1\ninvalid 1 skipped 1\n"},
		{"1000 addresses mirrored per subset, the rest skipped", endpoints(subset(1, ips(1005))), nil,
			"create ext-* IPv4 [db:1] 1000 endpoints\ninvalid 0 skipped 5\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := describe(Reconcile(Input{Endpoints: tc.ep, Slices: tc.slices, MaxEndpointsPerSubset: 1000}))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func renamed(s *discoveryv1.EndpointSlice, name string) *discoveryv1.EndpointSlice {
	s = s.DeepCopy()
	s.Name, s.UID = name, types.UID(name)
	return s
}

func TestMirroredSliceMeta(t *testing.T) {
	s := Reconcile(Input{Endpoints: endpoints(subset(1, []string{"10.1.0.1"})), MaxEndpointsPerSubset: 1000}).Create[0]
	want := map[string]string{"tier": "db", discoveryv1.LabelServiceName: "ext", discoveryv1.LabelManagedBy: ManagedBy}
	if diff := cmp.Diff(want, s.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"note": "x"}, s.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	ref := s.OwnerReferences[0]
	if ref.Kind != "Endpoints" || ref.UID != "ep-uid" || !ptr.Deref(ref.Controller, false) || s.GenerateName != "ext-" {
		t.Errorf("owner %+v, generateName %q", ref, s.GenerateName)
	}
}
