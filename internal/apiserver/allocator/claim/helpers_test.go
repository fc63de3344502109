package claim

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/apiserver/allocator"
	"github.com/svcplane/svcplane/internal/storage"
	"github.com/svcplane/svcplane/internal/storage/memory"
)

// server is one API server's claims over a shared store.
func server(t testing.TB, store storage.Store, name, cidr, ports string, cfg Config) *Claims {
	t.Helper()
	local, err := allocator.New(allocator.Config{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix(cidr)}, NodePortRange: ports})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Local, cfg.Server = store, local, name
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newStore(t testing.TB) *memory.Store {
	t.Helper()
	s := memory.New(memory.Config{})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// claimed lists the claims in store as "key=holder", in key order.
func claimed(t testing.TB, store storage.Store) string {
	t.Helper()
	res, err := store.List(context.Background(), Prefix, storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range res.KVs {
		rec, err := decodeRecord(kv.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimPrefix(kv.Key, Prefix)+"="+rec.Holder)
	}
	return strings.Join(out, " ")
}

func put(t testing.TB, store storage.Store, key, holder string) {
	t.Helper()
	io := &claimStore{store: store, server: "other", timeout: time.Second, now: time.Now}
	if err := io.create(context.Background(), key, holder); err != nil {
		t.Fatal(err)
	}
}

func svc(ns, name string, clusterIP string, nodePorts ...int32) *v1.Service {
	s := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1.ServiceSpec{Type: v1.ServiceTypeClusterIP, ClusterIP: clusterIP, ClusterIPs: []string{clusterIP}},
	}
	for _, np := range nodePorts {
		s.Spec.Type = v1.ServiceTypeNodePort
		s.Spec.Ports = append(s.Spec.Ports, v1.ServicePort{Port: np - 30000, Protocol: v1.ProtocolTCP, NodePort: np})
	}
	return s
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// short lists the claims in store as "<last octet or port>=<Service name>".
func short(t testing.TB, store storage.Store) string {
	t.Helper()
	var out []string
	for c := range strings.FieldsSeq(claimed(t, store)) {
		key, holder, _ := strings.Cut(c, "=")
		key = key[strings.LastIndexAny(key, "./")+1:]
		out = append(out, key+"="+strings.TrimPrefix(holder, "services/default/"))
	}
	return strings.Join(out, " ")
}

func listOf(services []*v1.Service) ListServices {
	return func(context.Context) ([]*v1.Service, error) { return services, nil }
}
