package endpointslice

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// store applies plans as the API would, naming created slices.
type store struct {
	slices map[string]*discoveryv1.EndpointSlice
	next   int
}

func (s *store) apply(p Plan) {
	for _, c := range p.Create {
		s.next++
		c = c.DeepCopy()
		c.Name, c.UID = fmt.Sprintf("web-%d", s.next), types.UID(fmt.Sprint(s.next))
		s.slices[c.Name] = c
	}
	for _, u := range p.Update {
		s.slices[u.Name] = u.DeepCopy()
	}
	for _, d := range p.Delete {
		delete(s.slices, d.Name)
	}
}

func (s *store) list() []*discoveryv1.EndpointSlice {
	return slices.Collect(maps.Values(s.slices))
}

func TestReconcileKeepsSlicesPackedAsPodsArrive(t *testing.T) {
	cases := []struct {
		name    string
		batches []int
		want    string
	}{
		{"one by one", slices.Repeat([]int{1}, 250), "100 100 50"},
		{"uneven batches", []int{37, 80, 150, 3, 230, 99, 1, 400}, "100 100 100 100 100 100 100 100 100 100"},
		{"big then small", []int{950, 20, 20, 10}, "100 100 100 100 100 100 100 100 100 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &store{slices: map[string]*discoveryv1.EndpointSlice{}}
			var have []*corev1.Pod
			all := pods(1000)
			for _, n := range tc.batches {
				have = all[:len(have)+n]
				st.apply(Reconcile(Input{Service: service(), Pods: have, Slices: st.list(), Nodes: nodes("a"), MaxEndpointsPerSlice: 100}))
			}
			if got := sizes(st.list()); got != tc.want {
				t.Errorf("slice sizes %s, want %s", got, tc.want)
			}
		})
	}
}

func sizes(list []*discoveryv1.EndpointSlice) string {
	var n []int
	for _, s := range list {
		n = append(n, len(s.Endpoints))
	}
	slices.Sort(n)
	slices.Reverse(n)
	return fmt.Sprint(n)[1 : len(fmt.Sprint(n))-1]
}
