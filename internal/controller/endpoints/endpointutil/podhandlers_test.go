package endpointutil

import (
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

func TestPodHandlers(t *testing.T) {
	svcs := []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "db"}}},
	}
	list := func(string, map[string]string) ([]*corev1.Service, error) { return svcs, nil }
	pod := func(app, rv string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"app": app}, ResourceVersion: rv}}
	}
	cases := []struct {
		name string
		run  func(f cache.ResourceEventHandlerFuncs)
		want string
	}{
		{"add queues the selecting Service", func(f cache.ResourceEventHandlerFuncs) { f.OnAdd(pod("web", "1"), false) }, "ns/web"},
		{"delete too, tombstones included", func(f cache.ResourceEventHandlerFuncs) {
			f.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: pod("db", "1")})
		}, "ns/db"},
		{"a label move queues both", func(f cache.ResourceEventHandlerFuncs) { f.OnUpdate(pod("web", "1"), pod("db", "2")) }, "ns/db,ns/web"},
		{"a resync queues nothing", func(f cache.ResourceEventHandlerFuncs) { f.OnUpdate(pod("web", "1"), pod("web", "1")) }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			h := PodHandlers{Candidates: list, Enqueue: func(k string) { got = append(got, k) }}
			tc.run(h.Funcs())
			sort.Strings(got)
			if g := strings.Join(got, ","); g != tc.want {
				t.Fatalf("queued %q, want %q", g, tc.want)
			}
		})
	}
}
