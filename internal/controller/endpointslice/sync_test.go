package endpointslice

import (
	"context"
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
)

type fixture struct {
	c      *Controller
	client *fake.Clientset
	events *record.FakeRecorder
}

// newFixture builds a controller over a fake clientset with the objects
// in both the fake API and the informer caches; sync is called directly.
func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	rec := record.NewFakeRecorder(10)
	c, err := New(Config{Client: client, Informers: f, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := indexerFor(f, o).Add(o); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{c: c, client: client, events: rec}
}

func indexerFor(f informers.SharedInformerFactory, o runtime.Object) interface{ Add(any) error } {
	switch o.(type) {
	case *corev1.Service:
		return f.Core().V1().Services().Informer().GetIndexer()
	case *corev1.Pod:
		return f.Core().V1().Pods().Informer().GetIndexer()
	case *corev1.Node:
		return f.Core().V1().Nodes().Informer().GetIndexer()
	default:
		return f.Discovery().V1().EndpointSlices().Informer().GetIndexer()
	}
}

func (f *fixture) writes() string {
	var out []string
	for _, a := range f.client.Actions() {
		if v := a.GetVerb(); v == "create" || v == "update" || v == "delete" {
			out = append(out, v)
		}
	}
	return fmt.Sprint(out)
}

func node(name, zone string) *corev1.Node {
	n := nodes(zone)["n1"].DeepCopy()
	n.Name = name
	return n
}

func TestSyncWritesAndEvents(t *testing.T) {
	svc := service()
	slices := stored(svc, pods(3), 100)
	cases := []struct {
		name       string
		objs       []runtime.Object
		failCreate bool
		wantWrites string
		wantEvent  string
		wantErr    bool
	}{
		{"create", []runtime.Object{svc, node("n1", "a"), pods(1)[0]}, false, "[create]", "", false},
		{"up to date", []runtime.Object{svc, node("n1", "a"), pods(3)[0], pods(3)[1], pods(3)[2], slices[0]}, false, "[]", "", false},
		{"create fails", []runtime.Object{svc, node("n1", "a"), pods(1)[0]}, true, "[create]",
			"Warning FailedToUpdateEndpointSlices Error updating Endpoint Slices for Service ns/web: create EndpointSlice: etcd is sad", true},
		{"Service gone: slices deleted", []runtime.Object{slices[0]}, false, "[delete]", "", false},
		{"Service lost its selector: slices deleted", []runtime.Object{service(func(s *corev1.Service) { s.Spec.Selector = nil }), slices[0]}, false, "[delete]", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.objs...)
			if tc.failCreate {
				f.client.PrependReactor("create", "endpointslices", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, errors.New("etcd is sad")
				})
			}
			err := f.c.sync(context.Background(), "ns/web")
			if (err != nil) != tc.wantErr {
				t.Fatalf("sync error %v, want error %v", err, tc.wantErr)
			}
			if got := f.writes(); got != tc.wantWrites {
				t.Errorf("writes %s, want %s", got, tc.wantWrites)
			}
			got := ""
			select {
			case got = <-f.events.Events:
			default:
			}
			if got != tc.wantEvent {
				t.Errorf("event %q, want %q", got, tc.wantEvent)
			}
		})
	}
}

func TestSyncWaitsForMissingNode(t *testing.T) {
	f := newFixture(t, service(), pods(1)[0])
	if err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	if got := f.c.waiting.take("n1"); fmt.Sprint(got) != "[ns/web]" {
		t.Errorf("waiting for n1: %v", got)
	}
	created := f.client.Actions()[len(f.client.Actions())-1].(k8stesting.CreateAction).GetObject().(*discoveryv1.EndpointSlice)
	if len(created.Endpoints) != 0 {
		t.Errorf("pod on a missing node listed: %+v", created.Endpoints)
	}
}
