package endpointslice

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func validSlice() *discoveryv1.EndpointSlice {
	port := int32(80)
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.244.0.5"}}},
		Ports:       []discoveryv1.EndpointPort{{Port: &port}},
	}
	Default(s)
	return s
}

func TestDefault(t *testing.T) {
	s := validSlice()
	if p := s.Ports[0]; p.Name == nil || *p.Name != "" || p.Protocol == nil || *p.Protocol != corev1.ProtocolTCP {
		t.Errorf("port defaults: %+v", p)
	}
}

func TestValidate(t *testing.T) {
	named := func(n string) *string { return &n }
	tests := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		want   []string
	}{
		{"valid", func(*discoveryv1.EndpointSlice) {}, nil},
		{"no address type", func(s *discoveryv1.EndpointSlice) { s.AddressType = "" }, []string{"addressType: Required value"}},
		{"bad address type", func(s *discoveryv1.EndpointSlice) { s.AddressType = "IP" },
			[]string{`addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"`}},
		{"IPv6 in IPv4 slice", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"fd00::5"} },
			[]string{`endpoints[0].addresses[0]: Invalid value: "fd00::5": must be an IPv4 address`}},
		{"loopback", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"127.0.0.1"} },
			[]string{`endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`}},
		{"no addresses", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = nil },
			[]string{"endpoints[0].addresses: Required value: must contain at least 1 address"}},
		{"too many addresses", func(s *discoveryv1.EndpointSlice) {
			s.Endpoints[0].Addresses = nil
			for i := range 101 {
				s.Endpoints[0].Addresses = append(s.Endpoints[0].Addresses, fmt.Sprintf("10.0.0.%d", i+1))
			}
		}, []string{"endpoints[0].addresses: Too many: 101: must have at most 100 items"}},
		{"too many endpoints", func(s *discoveryv1.EndpointSlice) { s.Endpoints = make([]discoveryv1.Endpoint, 1001) },
			[]string{"endpoints: Too many: 1001: must have at most 1000 items"}},
		{"hostname", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Hostname = named("Web") },
			[]string{`endpoints[0].hostname: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`}},
		{"duplicate port names", func(s *discoveryv1.EndpointSlice) { s.Ports = append(s.Ports, s.Ports[0]) },
			[]string{`ports[1].name: Duplicate value: ""`}},
		{"missing protocol", func(s *discoveryv1.EndpointSlice) { s.Ports[0].Protocol = nil },
			[]string{"ports[0].protocol: Required value"}},
		{"FQDN", func(s *discoveryv1.EndpointSlice) {
			s.AddressType = discoveryv1.AddressTypeFQDN
			s.Endpoints[0].Addresses = []string{"db.example.com"}
		}, nil},
		{"duplicate zone hints", func(s *discoveryv1.EndpointSlice) {
			s.Endpoints[0].Hints = &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "a"}, {Name: "a"}}}
		}, []string{`endpoints[0].hints.forZones[1].name: Duplicate value: "a"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validSlice()
			tc.mutate(s)
			checkErrors(t, Validate(context.Background(), s), tc.want)
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := validSlice()
	s := old.DeepCopy()
	s.AddressType = discoveryv1.AddressTypeIPv6
	s.Endpoints[0].Addresses = []string{"fd00::5"}
	checkErrors(t, ValidateUpdate(context.Background(), s, old), []string{`addressType: Invalid value: "IPv6": field is immutable`})
}

func TestPrepare(t *testing.T) {
	ctx := context.Background()
	s := validSlice()
	s.Endpoints[0].DeprecatedTopology = map[string]string{"a": "b"}
	PrepareForCreate(ctx, s)
	if s.Generation != 1 || s.Endpoints[0].DeprecatedTopology != nil {
		t.Fatalf("create: %+v", s)
	}
	annotated := s.DeepCopy()
	annotated.Annotations = map[string]string{"x": "y"}
	PrepareForUpdate(ctx, annotated, s)
	if annotated.Generation != 1 {
		t.Errorf("annotation change bumped generation to %d", annotated.Generation)
	}
	for name, mutate := range map[string]func(*discoveryv1.EndpointSlice){
		"labels":    func(n *discoveryv1.EndpointSlice) { n.Labels = map[string]string{"x": "y"} },
		"endpoints": func(n *discoveryv1.EndpointSlice) { n.Endpoints[0].Addresses = []string{"10.244.0.6"} },
	} {
		n := s.DeepCopy()
		mutate(n)
		PrepareForUpdate(ctx, n, s)
		if n.Generation != 2 {
			t.Errorf("%s change: generation %d, want 2", name, n.Generation)
		}
	}
}
