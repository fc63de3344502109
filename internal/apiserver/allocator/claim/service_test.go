package claim

import (
	"net/netip"
	"testing"

	v1 "k8s.io/api/core/v1"
)

// TestServiceWrites runs allocator.Allocators' Service logic over claims:
// a create claims, a revert and a delete release, and a Service on the
// other server gets kube-apiserver's error.
func TestServiceWrites(t *testing.T) {
	store := newStore(t)
	a := server(t, store, "a", "10.0.0.0/29", "30000-30009", Config{})
	b := server(t, store, "b", "10.0.0.0/29", "30000-30009", Config{})

	web := svc("default", "web", "10.0.0.2", 30001)
	txn, err := a.For(t.Context(), Holder("default", "web")).Create(web, false)
	if err != nil {
		t.Fatal(err)
	}
	_ = txn.Commit()
	want := "ips/ipv4/10.0.0.2=services/default/web nodeports/30001=services/default/web"
	if got := claimed(t, store); got != want {
		t.Errorf("after create:\n got %s\nwant %s", got, want)
	}

	dup := svc("default", "dup", "10.0.0.2")
	_, err = b.For(t.Context(), Holder("default", "dup")).Create(dup, false)
	wantErr := `Service "dup" is invalid: spec.clusterIPs: Invalid value: ["10.0.0.2"]: failed to allocate IP 10.0.0.2: provided IP is already allocated`
	if err == nil || err.Error() != wantErr {
		t.Errorf("duplicate on the other server:\n got %v\nwant %s", err, wantErr)
	}

	other := svc("default", "other", "", 30002)
	other.Spec.ClusterIP, other.Spec.ClusterIPs, other.Spec.Ports[0].NodePort = "", nil, 0
	txn, err = b.For(t.Context(), Holder("default", "other")).Create(other, false)
	if err != nil {
		t.Fatal(err)
	}
	if other.Spec.ClusterIP == "10.0.0.2" || other.Spec.Ports[0].NodePort == 30001 {
		t.Errorf("the other server handed out a value a holds: %v %v", other.Spec.ClusterIPs, other.Spec.Ports)
	}
	_ = txn.Revert()
	if got := claimed(t, store); got != want {
		t.Errorf("after revert:\n got %s\nwant %s", got, want)
	}

	if err := b.For(t.Context(), Holder("default", "web")).Release(web); err != nil {
		t.Fatal(err)
	}
	if got := claimed(t, store); got != "" {
		t.Errorf("after delete on the other server: %s", got)
	}
	if err := b.For(t.Context(), "x").IPs[v1.IPv4Protocol].Allocate(netip.MustParseAddr(web.Spec.ClusterIP)); err != nil {
		t.Errorf("reuse after delete: %v", err)
	}
}
