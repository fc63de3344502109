package endpointutil

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

func TestIndexes(t *testing.T) {
	pods := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{PodLabelIndex: podLabelValues})
	services := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{ServiceSelectorIndex: serviceSelectorValues})
	for _, p := range []struct{ ns, name, app, tier string }{
		{"ns", "a", "web", "front"}, {"ns", "b", "web", "back"}, {"ns", "c", "db", "back"}, {"other", "d", "web", "front"},
	} {
		must(t, pods.Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.ns, Name: p.name, Labels: map[string]string{"app": p.app, "tier": p.tier}}}))
	}
	svc := func(name string, sel map[string]string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Spec: corev1.ServiceSpec{Selector: sel}}
	}
	svcs := []*corev1.Service{
		svc("web", map[string]string{"app": "web"}), svc("web-front", map[string]string{"app": "web", "tier": "front"}),
		svc("all", map[string]string{}), svc("manual", nil), svc("db", map[string]string{"app": "db"}),
	}
	for _, s := range svcs {
		must(t, services.Add(s))
	}
	podCases := []struct {
		svc  *corev1.Service
		want []string
	}{
		{svcs[0], []string{"a", "b"}}, {svcs[1], []string{"a"}}, {svcs[2], []string{"a", "b", "c"}}, {svcs[4], []string{"c"}},
	}
	for _, tc := range podCases {
		got, err := PodsForService(pods, tc.svc)
		must(t, err)
		var names []string
		for _, p := range got {
			names = append(names, p.Name)
		}
		slices.Sort(names)
		if diff := cmp.Diff(tc.want, names); diff != "" {
			t.Errorf("pods of %s (-want +got):\n%s", tc.svc.Name, diff)
		}
	}
	keys, err := ServicesForPod(ServiceCandidatesFrom(services), "ns", map[string]string{"app": "web", "tier": "front"})
	must(t, err)
	if diff := cmp.Diff([]string{"ns/all", "ns/web", "ns/web-front"}, sortedKeys(keys)); diff != "" {
		t.Errorf("services of a web/front pod (-want +got):\n%s", diff)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
