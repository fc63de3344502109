package mirroring

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
)

func TestSync(t *testing.T) {
	manual := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "ns"}}
	selected := manual.DeepCopy()
	selected.Spec.Selector = map[string]string{"app": "x"}
	ep := endpoints(subset(1, []string{"10.1.0.1", "bogus"}))
	skip := ep.DeepCopy()
	skip.Labels = map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}
	mirrored := stored(Reconcile(Input{Endpoints: ep, MaxEndpointsPerSubset: 1000}))[0]
	cases := []struct {
		name       string
		objs       []runtime.Object
		wantWrites string
		wantEvent  string
	}{
		{"mirrored, invalid address reported", []runtime.Object{manual, ep}, "[create]",
			"Warning InvalidIPAddress Skipped 1 invalid IP addresses when mirroring to EndpointSlices"},
		{"Service with a selector: mirror removed", []runtime.Object{selected, ep, mirrored}, "[delete]", ""},
		{"no Service: mirror removed", []runtime.Object{ep, mirrored}, "[delete]", ""},
		{"skip-mirror: mirror removed", []runtime.Object{manual, skip, mirrored}, "[delete]", ""},
		{"Endpoints gone: mirror removed", []runtime.Object{manual, mirrored}, "[delete]", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset(tc.objs...)
			f := informers.NewSharedInformerFactory(client, 0)
			rec := record.NewFakeRecorder(10)
			c, err := New(Config{Client: client, Informers: f, Recorder: rec})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range tc.objs {
				var err error
				switch o := o.(type) {
				case *corev1.Service:
					err = f.Core().V1().Services().Informer().GetIndexer().Add(o)
				case *corev1.Endpoints:
					err = f.Core().V1().Endpoints().Informer().GetIndexer().Add(o)
				default:
					err = f.Discovery().V1().EndpointSlices().Informer().GetIndexer().Add(o)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := c.sync(context.Background(), "ns/ext"); err != nil {
				t.Fatal(err)
			}
			var writes []string
			for _, a := range client.Actions() {
				if v := a.GetVerb(); v == "create" || v == "update" || v == "delete" {
					writes = append(writes, v)
				}
			}
			if got := fmt.Sprint(writes); got != tc.wantWrites {
				t.Errorf("writes %s, want %s", got, tc.wantWrites)
			}
			got := ""
			select {
			case got = <-rec.Events:
			default:
			}
			if got != tc.wantEvent {
				t.Errorf("event %q, want %q", got, tc.wantEvent)
			}
		})
	}
}
