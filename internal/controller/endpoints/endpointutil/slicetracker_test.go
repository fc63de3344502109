package endpointutil

import (
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func slice(uid string, gen int64) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: uid, UID: types.UID(uid), Generation: gen,
		Labels: map[string]string{discoveryv1.LabelServiceName: "web"},
	}}
}

func TestSliceTracker(t *testing.T) {
	cases := []struct {
		name      string
		written   []*discoveryv1.EndpointSlice
		deleted   []*discoveryv1.EndpointSlice
		cached    []*discoveryv1.EndpointSlice
		wantStale bool
	}{
		{"nothing written", nil, nil, []*discoveryv1.EndpointSlice{slice("a", 1)}, false},
		{"cache caught up", []*discoveryv1.EndpointSlice{slice("a", 2)}, nil, []*discoveryv1.EndpointSlice{slice("a", 2)}, false},
		{"cache newer (someone else wrote)", []*discoveryv1.EndpointSlice{slice("a", 2)}, nil, []*discoveryv1.EndpointSlice{slice("a", 3)}, false},
		{"cache older", []*discoveryv1.EndpointSlice{slice("a", 2)}, nil, []*discoveryv1.EndpointSlice{slice("a", 1)}, true},
		{"created slice not cached yet", []*discoveryv1.EndpointSlice{slice("a", 1), slice("b", 1)}, nil, []*discoveryv1.EndpointSlice{slice("a", 1)}, true},
		{"deleted slice still cached", nil, []*discoveryv1.EndpointSlice{slice("a", 1)}, []*discoveryv1.EndpointSlice{slice("a", 1)}, true},
		{"deleted slice gone", nil, []*discoveryv1.EndpointSlice{slice("a", 1)}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewSliceTracker()
			for _, s := range tc.written {
				tr.Update(s)
			}
			for _, s := range tc.deleted {
				tr.ExpectDeletion(s)
			}
			if got := tr.Stale("ns/web", tc.cached); got != tc.wantStale {
				t.Errorf("Stale = %v, want %v", got, tc.wantStale)
			}
		})
	}
}

func TestSliceTrackerEvents(t *testing.T) {
	tr := NewSliceTracker()
	tr.Update(slice("a", 2))
	if tr.ShouldSync(slice("a", 2)) {
		t.Error("own write should not trigger a sync")
	}
	if !tr.ShouldSync(slice("a", 3)) || !tr.ShouldSync(slice("b", 1)) {
		t.Error("others' writes should trigger a sync")
	}
	if tr.HandleDeletion(slice("a", 2)) {
		t.Error("unexpected deletion reported as expected")
	}
	tr.ExpectDeletion(slice("c", 1))
	if !tr.HandleDeletion(slice("c", 1)) || tr.Has(slice("c", 1)) {
		t.Error("expected deletion not recognised or not forgotten")
	}
}
