package cluster

// watch_test.go: the informers against client-go's fake clientset: Ready
// after sync, answers from the API objects, then events applied.

import (
	"context"
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// eventually polls cond until it holds or the test's deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rcodeOf answers qname/qtype from c and returns the rcode, -1 for nil.
func rcodeOf(c *Cluster, qname string, qtype uint16) int {
	resp := c.Answer(context.Background(), new(mdns.Msg).SetQuestion(qname, qtype), netip.MustParseAddr("10.250.0.1"))
	if resp == nil {
		return -1
	}
	return resp.Rcode
}

func TestRunWithFakeClientset(t *testing.T) {
	client := fake.NewClientset([]runtime.Object{
		namespace("demo"),
		clusterIPService("demo", "web", []string{"10.96.0.20"}, servicePort("http", "TCP", 80)),
		headlessService("demo", "db", false, servicePort("mysql", "TCP", 3306)),
		endpointSlice("demo", "db-a", "db", []discoveryv1.EndpointPort{slicePort("mysql", "TCP", 3306)},
			readyEP("10.1.0.1", "db-0")),
		testPod("demo", "p1", corev1.PodRunning, "10.1.0.1"),
	}...)
	c := New(Config{Client: client, Pods: PodsVerified})
	c.idx.now = func() time.Time { return time.Unix(testSerial, 0) }
	if got := rcodeOf(c, "web.demo.svc.cluster.local.", mdns.TypeA); got != mdns.RcodeServerFailure {
		t.Fatalf("before Run: rcode %s, want SERVFAIL", mdns.RcodeToString[got])
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	eventually(t, "Ready", c.Ready)

	runQueries(t, c, []query{
		{name: "A", qname: "web.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"web.demo.svc.cluster.local. 30 IN A 10.96.0.20"}},
		{name: "headless hostname", qname: "db-0.db.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"db-0.db.demo.svc.cluster.local. 30 IN A 10.1.0.1"}},
		{name: "verified pod", qname: "10-1-0-1.demo.pod.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"10-1-0-1.demo.pod.cluster.local. 30 IN A 10.1.0.1"}},
		{name: "namespace", qname: "demo.svc.cluster.local.", qtype: mdns.TypeA, ns: []string{soa}},
	})

	ctx2 := context.Background()
	created := clusterIPService("demo", "new", []string{"10.96.0.99"}, servicePort("http", "TCP", 80))
	if _, err := client.CoreV1().Services("demo").Create(ctx2, created, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the created Service", func() bool {
		return rcodeOf(c, "new.demo.svc.cluster.local.", mdns.TypeA) == mdns.RcodeSuccess
	})
	if err := client.DiscoveryV1().EndpointSlices("demo").Delete(ctx2, "db-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the headless Service without endpoints", func() bool {
		return rcodeOf(c, "db.demo.svc.cluster.local.", mdns.TypeA) == mdns.RcodeNameError
	})
	if st := c.Stats(); st.Services != 3 || st.EndpointSlices != 0 || st.Pods != 1 {
		t.Errorf("Stats() = %+v", st)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no client", Config{}},
		{"bad pods mode", Config{Client: fake.NewClientset(), Pods: "sometimes"}},
		{"ttl too high", Config{Client: fake.NewClientset(), TTL: 3601}},
		{"bad zone", Config{Client: fake.NewClientset(), Zone: "a..b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := New(tt.cfg).Run(context.Background()); err == nil {
				t.Errorf("Run() = nil, want an error")
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c := New(Config{TTL: 5000, Zone: "Cluster.Local"})
	if c.zone != "cluster.local." || c.ttl != MaxTTL || c.pods != PodsDisabled || c.log == nil {
		t.Errorf("New() = zone %q ttl %d pods %q", c.zone, c.ttl, c.pods)
	}
	if c := New(Config{}); c.zone != "cluster.local." || c.ttl != DefaultTTL {
		t.Errorf("New() = zone %q ttl %d", c.zone, c.ttl)
	}
	if err := (Config{Zone: "example.internal.", TTL: 3600, Pods: PodsInsecure}).Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}
