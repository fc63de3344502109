package endpoints

import (
	"context"
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
)

// fixture is a controller over a fake clientset whose informer caches are
// filled by hand; sync is called directly.
type fixture struct {
	c        *Controller
	client   *fake.Clientset
	informer informers.SharedInformerFactory
	events   *record.FakeRecorder
}

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
		var err error
		switch o := o.(type) {
		case *corev1.Service:
			err = f.Core().V1().Services().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			err = f.Core().V1().Pods().Informer().GetIndexer().Add(o)
		case *corev1.Endpoints:
			err = f.Core().V1().Endpoints().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{c: c, client: client, informer: f, events: rec}
}

func (f *fixture) failWrites(verb string) {
	f.client.PrependReactor(verb, "endpoints", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("etcd is sad")
	})
}

func (f *fixture) writes() []string {
	var out []string
	for _, a := range f.client.Actions() {
		if a.GetVerb() != "list" && a.GetVerb() != "watch" && a.GetVerb() != "get" {
			out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
		}
	}
	return out
}

func TestSyncWritesAndEvents(t *testing.T) {
	stored := Reconcile(Input{Service: service(), Pods: []*corev1.Pod{pod("a", "10.0.0.1")}}).Endpoints
	stored.ResourceVersion = "5"
	cases := []struct {
		name       string
		objs       []runtime.Object
		fail       string
		wantWrites string
		wantEvent  string
		wantErr    bool
	}{
		{"create", []runtime.Object{service(), pod("a", "10.0.0.1")}, "", "[create endpoints]", "", false},
		{"no change, no write", []runtime.Object{service(), pod("a", "10.0.0.1"), stored}, "", "[]", "", false},
		{"update", []runtime.Object{service(), pod("a", "10.0.0.1", unready()), stored}, "", "[update endpoints]", "", false},
		{"create fails", []runtime.Object{service(), pod("a", "10.0.0.1")}, "create", "[create endpoints]",
			"Warning FailedToCreateEndpoint Failed to create endpoint for service ns/web: etcd is sad", true},
		{"update fails", []runtime.Object{service(), pod("a", "10.0.0.1", unready()), stored}, "update", "[update endpoints]",
			"Warning FailedToUpdateEndpoint Failed to update endpoint ns/web: etcd is sad", true},
		{"Service gone: Endpoints deleted", []runtime.Object{stored}, "", "[delete endpoints]", "", false},
		{"selector-less Service: left alone", []runtime.Object{service(func(s *corev1.Service) { s.Spec.Selector = nil }), stored}, "", "[]", "", false},
		{"ExternalName: left alone", []runtime.Object{service(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName })}, "", "[]", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.objs...)
			if tc.fail != "" {
				f.failWrites(tc.fail)
			}
			err := f.c.sync(context.Background(), "ns/web")
			if (err != nil) != tc.wantErr {
				t.Fatalf("sync error %v, want error %v", err, tc.wantErr)
			}
			if got := fmt.Sprint(f.writes()); got != tc.wantWrites {
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

func TestSyncWaitsForItsOwnUpdate(t *testing.T) {
	stored := Reconcile(Input{Service: service(), Pods: []*corev1.Pod{pod("a", "10.0.0.1")}}).Endpoints
	stored.ResourceVersion = "5"
	f := newFixture(t, service(), pod("a", "10.0.0.1", unready()), stored)
	if err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	// The fake keeps resourceVersion "5"; pretend the server moved on.
	f.c.stale.markReplaced(stored)
	if err := f.c.sync(context.Background(), "ns/web"); err == nil {
		t.Error("a sync over the replaced resourceVersion should wait for the cache")
	}
}
