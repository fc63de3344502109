package servicealloc

import (
	"context"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/apiserver/allocator/claim"
	"github.com/svcplane/svcplane/internal/storage"
	"github.com/svcplane/svcplane/internal/storage/memory"
)

func newHooks(t *testing.T, store storage.Store) *Hooks {
	t.Helper()
	h, err := New(Config{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/29")}, NodePortRange: "30000-30009", Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Repair(t.Context(), func(context.Context) ([]*corev1.Service, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	return h
}

func nodePortService(name, ip string, nodePort int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: ip,
			Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, NodePort: nodePort}}},
	}
}

// TestHooksShareOneStore: two API servers' hooks on one store. What one
// holds the other cannot have, with the Status errors kube-apiserver
// gives; Abort and AfterDelete release the claims.
func TestHooksShareOneStore(t *testing.T) {
	store := memory.New(memory.Config{})
	a, b := newHooks(t, store), newHooks(t, store)
	ctx := t.Context()

	p, err := a.BeforeCreate(ctx, nodePortService("web", "10.0.0.2", 30001), false)
	if err != nil {
		t.Fatal(err)
	}
	p.Settle(true)
	tests := []struct {
		name string
		svc  *corev1.Service
		want string
	}{
		{"cluster IP", nodePortService("x", "10.0.0.2", 0),
			`Service "x" is invalid: spec.clusterIPs: Invalid value: ["10.0.0.2"]: failed to allocate IP 10.0.0.2: provided IP is already allocated`},
		{"node port", nodePortService("y", "", 30001),
			`Service "y" is invalid: spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated`},
	}
	for _, tt := range tests {
		_, err := b.BeforeCreate(ctx, tt.svc, false)
		if !apierrors.IsInvalid(err) || err.Error() != tt.want {
			t.Errorf("%s held by the other server:\n got %v\nwant %s", tt.name, err, tt.want)
		}
	}

	p, err = b.BeforeCreate(ctx, nodePortService("z", "10.0.0.3", 30002), false)
	if err != nil {
		t.Fatal(err)
	}
	p.Settle(false) // the write failed
	a.AfterDelete(ctx, nodePortService("web", "10.0.0.2", 30001))
	if res, _ := store.List(ctx, claim.Prefix, storage.ListOptions{}); len(res.KVs) != 0 {
		t.Errorf("claims left after abort and delete: %v", res.KVs)
	}
	// b has not seen the release (no watch runs here): the claim decides.
	if _, err := b.BeforeCreate(ctx, nodePortService("x", "10.0.0.2", 30001), false); err != nil {
		t.Errorf("create after release: %v", err)
	}
}
