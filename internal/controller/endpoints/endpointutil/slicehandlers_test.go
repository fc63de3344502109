package endpointutil

import (
	"strings"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func handlerSlice(svc, managedBy string, gen int64) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{
		Name: svc + "-abc", Namespace: "ns", UID: types.UID(svc + "-uid"), Generation: gen,
		Labels: map[string]string{discoveryv1.LabelServiceName: svc, discoveryv1.LabelManagedBy: managedBy}}}
}

func TestSliceHandlers(t *testing.T) {
	mine, theirs := "me", "someone-else"
	cases := []struct {
		name string
		run  func(h SliceHandlers)
		want string
	}{
		{"own write is not queued", func(h SliceHandlers) {
			s := handlerSlice("a", mine, 1)
			h.Tracker.Update(s)
			h.Funcs().OnAdd(s, false)
		}, ""},
		{"a slice added by someone else is queued", func(h SliceHandlers) {
			h.Funcs().OnAdd(handlerSlice("a", mine, 1), false)
		}, "a"},
		{"another controller's slice is ignored", func(h SliceHandlers) {
			h.Funcs().OnAdd(handlerSlice("a", theirs, 1), false)
		}, ""},
		{"a changed service name queues both", func(h SliceHandlers) {
			h.Funcs().OnUpdate(handlerSlice("a", mine, 1), handlerSlice("b", mine, 1))
		}, "a,b"},
		{"managed-by moving away is queued", func(h SliceHandlers) {
			h.Funcs().OnUpdate(handlerSlice("a", mine, 1), handlerSlice("a", theirs, 1))
		}, "a"},
		{"a deletion by someone else is queued", func(h SliceHandlers) {
			s := handlerSlice("a", mine, 1)
			h.Tracker.Update(s)
			h.Funcs().OnDelete(s)
		}, "a"},
		{"an expected deletion is not", func(h SliceHandlers) {
			s := handlerSlice("a", mine, 1)
			h.Tracker.Update(s)
			h.Tracker.ExpectDeletion(s)
			h.Funcs().OnDelete(s)
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			h := SliceHandlers{ManagedBy: mine, Tracker: NewSliceTracker(),
				Enqueue: func(s *discoveryv1.EndpointSlice) { got = append(got, s.Labels[discoveryv1.LabelServiceName]) }}
			tc.run(h)
			if g := strings.Join(got, ","); g != tc.want {
				t.Fatalf("queued %q, want %q", g, tc.want)
			}
		})
	}
}
