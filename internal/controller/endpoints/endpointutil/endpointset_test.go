package endpointutil

import (
	"strings"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
)

func TestEndpointSetOrderAndKeys(t *testing.T) {
	ep := func(ip string, ready bool) *discoveryv1.Endpoint {
		return &discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}
	}
	s := NewEndpointSet()
	for _, ip := range []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"} {
		s.Insert(ep(ip, true))
	}
	if got := s.Take(ep("10.0.0.1", false)); got == nil || !*got.Conditions.Ready {
		t.Fatalf("Take by key (conditions aside) = %v", got)
	}
	s.Insert(ep("10.0.0.4", true))
	var order []string
	for s.Len() > 0 {
		order = append(order, s.Pop().Addresses[0])
	}
	if want := "10.0.0.3 10.0.0.2 10.0.0.4"; strings.Join(order, " ") != want {
		t.Errorf("pop order %q, want %q", strings.Join(order, " "), want)
	}
	if EndpointsEqualBeyondKey(ep("10.0.0.1", true), ep("10.0.0.1", false)) {
		t.Error("a readiness change went unnoticed")
	}
}
