package nodeipam

import (
	"context"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
)

// TestStaleNodeGetsNoSecondCIDR: the cache still shows a Node without a
// CIDR that by now has one. The patch carries the read resourceVersion,
// so the server answers a conflict (here a reactor does, as the API
// server does) and the Node keeps its one CIDR; the allocation is
// given back.
func TestStaleNodeGetsNoSecondCIDR(t *testing.T) {
	live := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "u1", ResourceVersion: "5"},
		Spec: corev1.NodeSpec{PodCIDR: "10.244.7.0/24", PodCIDRs: []string{"10.244.7.0/24"}}}
	client := fake.NewClientset(live)
	client.PrependReactor("patch", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		var p struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(a.(k8stesting.PatchAction).GetPatch(), &p); err != nil {
			return true, nil, err
		}
		if p.Metadata.ResourceVersion != "" && p.Metadata.ResourceVersion != live.ResourceVersion {
			return true, nil, apierrors.NewConflict(corev1.Resource("nodes"), "n1", nil)
		}
		return false, nil, nil
	})
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Nodes: f.Core().V1().Nodes(), Recorder: record.NewFakeRecorder(10), ClusterCIDR: "10.244.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	stale := live.DeepCopy()
	stale.ResourceVersion, stale.Spec = "4", corev1.NodeSpec{}
	if err := f.Core().V1().Nodes().Informer().GetStore().Add(stale); err != nil {
		t.Fatal(err)
	}
	if err := c.sync(context.Background(), "n1"); !apierrors.IsConflict(err) {
		t.Fatalf("sync of a stale Node: %v, want a conflict", err)
	}
	got, _ := client.CoreV1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if len(got.Spec.PodCIDRs) != 1 || got.Spec.PodCIDRs[0] != "10.244.7.0/24" {
		t.Fatalf("pod CIDRs after a stale sync: %v", got.Spec.PodCIDRs)
	}
	if free := c.set.Free(); free != 256 {
		t.Fatalf("%d CIDRs free after the conflict, want all 256 (the allocation was not given back)", free)
	}
}
