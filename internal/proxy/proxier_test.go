package proxy_test

import (
	"context"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/proxy"
)

// recorder is a backend that keeps the states it was given.
type recorder struct {
	mu     sync.Mutex
	states []*proxy.State
	fail   bool
}

func (r *recorder) Mode() proxy.Mode                              { return "recorder" }
func (r *recorder) NeedsFullSync(context.Context) bool            { return false }
func (r *recorder) Rules(context.Context) (string, error)         { return "", nil }
func (r *recorder) Cleanup(context.Context) error                 { return nil }
func (r *recorder) Sync(_ context.Context, st *proxy.State) error { return r.record(st) }

func (r *recorder) record(st *proxy.State) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, st)
	if r.fail {
		r.fail = false
		return context.DeadlineExceeded
	}
	return nil
}

func (r *recorder) last() *proxy.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 {
		return nil
	}
	return r.states[len(r.states)-1]
}

// waitState waits for a synced state for which ok holds.
func (r *recorder) waitState(t *testing.T, what string, ok func(*proxy.State) bool) *proxy.State {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st := r.last(); st != nil && ok(st) {
			return st
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no state with %s; last: %s", what, describe(r.last()))
	return nil
}

func describe(st *proxy.State) string {
	if st == nil {
		return "none"
	}
	var lines []string
	for _, s := range st.Services {
		lines = append(lines, s.Name.String()+" "+eps(s.AllReachable))
	}
	var changed []string
	for n := range st.Changed {
		changed = append(changed, n.String())
	}
	sort.Strings(changed)
	return "full=" + yes(st.Full) + " changed=" + strings.Join(changed, ",") + " services=[" + strings.Join(lines, "; ") + "]"
}

func TestProxierSyncsServicesAndSlices(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewSimpleClientset()
	rec := &recorder{}
	p := proxy.NewProxier(proxy.ProxierConfig{
		NodeName:      "n1",
		Families:      []proxy.FamilyConfig{{Family: corev1.IPv4Protocol, Backend: rec, NodeIPs: []netip.Addr{netip.MustParseAddr("192.168.0.2")}}},
		MinSyncPeriod: 10 * time.Millisecond,
		SyncPeriod:    time.Hour,
	}, nil)
	go p.Run(ctx)
	create(t, client, svc("web", "10.96.0.20"), slice("web", "web-a", "10.244.0.5", "n1"))
	if err := proxy.Watch(ctx, client, p, 0); err != nil {
		t.Fatal(err)
	}
	st := rec.waitState(t, "web", func(st *proxy.State) bool { return st.Service(portName("web")) != nil })
	if got := describe(st); !strings.Contains(got, "default/web:http 10.244.0.5:8080") || !st.Full {
		t.Fatalf("first sync: %s", got)
	}
	if s := st.Service(portName("web")); len(s.Local) != 0 || !s.AllReachable[0].Local {
		t.Errorf("endpoint on this node should be local: %+v", s.AllReachable)
	}

	// One more service: a partial sync that names only it.
	create(t, client, svc("api", "10.96.0.21"), slice("api", "api-a", "10.244.1.7", "n2"))
	st = rec.waitState(t, "api", func(st *proxy.State) bool {
		s := st.Service(portName("api"))
		return s != nil && len(s.AllReachable) == 1
	})
	if st.Full || st.Changed[portName("web")] || !st.Changed[portName("api")] {
		t.Errorf("adding api: %s", describe(st))
	}

	// Deleting the Service: the partial sync names the deleted port.
	if err := client.CoreV1().Services("default").Delete(ctx, "api", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	st = rec.waitState(t, "api gone", func(st *proxy.State) bool { return st.Service(portName("api")) == nil })
	if !st.Changed[portName("api")] || st.Full {
		t.Errorf("deleting api: %s", describe(st))
	}
}

func TestProxierRetriesFailedSyncInFull(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewSimpleClientset()
	rec := &recorder{fail: true}
	p := proxy.NewProxier(proxy.ProxierConfig{
		NodeName:      "n1",
		Families:      []proxy.FamilyConfig{{Family: corev1.IPv4Protocol, Backend: rec}},
		MinSyncPeriod: 10 * time.Millisecond,
		SyncPeriod:    time.Hour,
	}, nil)
	go p.Run(ctx)
	if err := proxy.Watch(ctx, client, p, 0); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "first, failing, sync", func(*proxy.State) bool { return true })
	create(t, client, svc("web", "10.96.0.20"))
	st := rec.waitState(t, "web", func(st *proxy.State) bool { return st.Service(portName("web")) != nil })
	if !st.Full {
		t.Errorf("the sync after a failure must be full: %s", describe(st))
	}
}

// TestProxierFullSyncEveryHour: an hour after the last full sync the
// next sync is full again, although nothing asked for it.
func TestProxierFullSyncEveryHour(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewSimpleClientset()
	rec := &recorder{}
	var mu sync.Mutex
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	p := proxy.NewProxier(proxy.ProxierConfig{
		NodeName:      "n1",
		Families:      []proxy.FamilyConfig{{Family: corev1.IPv4Protocol, Backend: rec}},
		MinSyncPeriod: 10 * time.Millisecond,
		SyncPeriod:    time.Hour,
		Now:           clock,
	}, nil)
	go p.Run(ctx)
	if err := proxy.Watch(ctx, client, p, 0); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "the first, full, sync", func(st *proxy.State) bool { return st.Full })
	advance(59 * time.Minute)
	create(t, client, svc("web", "10.96.0.20"))
	if st := rec.waitState(t, "web", func(st *proxy.State) bool { return st.Service(portName("web")) != nil }); st.Full {
		t.Errorf("59 minutes after a full sync, a change is a partial sync: %s", describe(st))
	}
	advance(2 * time.Minute)
	create(t, client, svc("api", "10.96.0.21"))
	if st := rec.waitState(t, "api", func(st *proxy.State) bool { return st.Service(portName("api")) != nil }); !st.Full {
		t.Errorf("61 minutes after a full sync, the next sync must be full: %s", describe(st))
	}
}

func portName(svc string) proxy.ServicePortName {
	n := proxy.ServicePortName{Port: "http", Protocol: corev1.ProtocolTCP}
	n.Namespace, n.Name = "default", svc
	return n
}

func create(t *testing.T, client *fake.Clientset, objs ...any) {
	t.Helper()
	ctx := context.Background()
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Service:
			_, err = client.CoreV1().Services(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *discoveryv1.EndpointSlice:
			_, err = client.DiscoveryV1().EndpointSlices(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func svc(name, ip string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
}

func slice(svc, name, ip, node string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, NodeName: ptr.To(node)}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
}
