package gc

import (
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func ref(uid string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: uid, UID: types.UID(uid), BlockOwnerDeletion: ptr.To(block)}
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name       string
		owners     []string
		finalizers []string
		states     map[types.UID]OwnerState
		deps       bool
		want       Action
	}{
		{"no owners", nil, nil, nil, false, Action{Kind: ActNone}},
		{"solid owner", []string{"a"}, nil, map[types.UID]OwnerState{"a": OwnerSolid}, false, Action{Kind: ActNone}},
		{"owner gone", []string{"a"}, nil, map[types.UID]OwnerState{"a": OwnerDangling}, false,
			Action{Kind: ActDelete, Policy: metav1.DeletePropagationBackground}},
		{"one of two gone", []string{"a", "b"}, nil, map[types.UID]OwnerState{"a": OwnerSolid, "b": OwnerDangling}, false,
			Action{Kind: ActRemoveRefs, UIDs: []types.UID{"b"}}},
		{"solid and waiting", []string{"a", "b"}, nil, map[types.UID]OwnerState{"a": OwnerSolid, "b": OwnerWaiting}, true,
			Action{Kind: ActRemoveRefs, UIDs: []types.UID{"b"}}},
		{"waiting owner, own dependents", []string{"a"}, nil, map[types.UID]OwnerState{"a": OwnerWaiting}, true,
			Action{Kind: ActDelete, Policy: metav1.DeletePropagationForeground, UIDs: []types.UID{"a"}, Unblock: true}},
		{"waiting owner, leaf", []string{"a"}, nil, map[types.UID]OwnerState{"a": OwnerWaiting}, false,
			Action{Kind: ActDelete, Policy: metav1.DeletePropagationBackground}},
		{"own orphan finalizer", []string{"a"}, []string{metav1.FinalizerOrphanDependents}, map[types.UID]OwnerState{"a": OwnerDangling}, true,
			Action{Kind: ActDelete, Policy: metav1.DeletePropagationOrphan}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := &Node{Finalizers: tc.finalizers}
			for _, o := range tc.owners {
				n.Owners = append(n.Owners, ref(o, true))
			}
			got := Decide(n, tc.states, tc.deps)
			if got.Kind != tc.want.Kind || got.Policy != tc.want.Policy || got.Unblock != tc.want.Unblock ||
				strings.Join(uids(got.UIDs), ",") != strings.Join(uids(tc.want.UIDs), ",") {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func uids(in []types.UID) []string {
	var out []string
	for _, u := range in {
		out = append(out, string(u))
	}
	return out
}

func names(nodes []*Node) string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Name)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestGraph(t *testing.T) {
	g := NewGraph()
	g.Upsert(&Node{Name: "rs", UID: "rs"})
	g.Upsert(&Node{Name: "p1", UID: "p1", Owners: []metav1.OwnerReference{ref("rs", true)}})
	g.Upsert(&Node{Name: "p2", UID: "p2", Owners: []metav1.OwnerReference{ref("rs", false)}})
	g.Upsert(&Node{Name: "s1", UID: "s1", Owners: []metav1.OwnerReference{ref("ghost", true)}})
	if got := names(g.Dependents("rs")); got != "p1,p2" {
		t.Errorf("dependents %s", got)
	}
	if got := names(g.Blocking("rs")); got != "p1" {
		t.Errorf("blocking %s", got)
	}
	if got := names(g.Dependents("ghost")); got != "s1" {
		t.Errorf("dependents of unseen owner %s", got)
	}
	g.Upsert(&Node{Name: "p1", UID: "p1"})
	if got := names(g.Dependents("rs")); got != "p2" {
		t.Errorf("after release %s", got)
	}
	g.Remove("p2")
	if got := names(g.Dependents("rs")); got != "" || g.Get("p2") != nil {
		t.Errorf("after remove %s", got)
	}
}

func TestNodeStates(t *testing.T) {
	now := metav1.Now()
	n := nodeOf(Resource{}, &metav1.ObjectMeta{Name: "d", DeletionTimestamp: &now, Finalizers: []string{metav1.FinalizerDeleteDependents}})
	if !n.DeletingDependents() || n.Orphaning() {
		t.Error("foreground owner")
	}
	n = nodeOf(Resource{}, &metav1.ObjectMeta{Name: "d", DeletionTimestamp: &now, Finalizers: []string{metav1.FinalizerOrphanDependents}})
	if n.DeletingDependents() || !n.Orphaning() {
		t.Error("orphaning owner")
	}
}

func TestMapperAndLists(t *testing.T) {
	lists := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "pods", Kind: "Pod", Namespaced: true, Verbs: []string{"list"}}, {Name: "pods/status", Kind: "Pod"}}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{{Name: "replicasets", Kind: "ReplicaSet", Namespaced: true}}},
	}
	rs := fromLists(lists)
	if len(rs) != 2 || !rs[0].Has("list") {
		t.Fatalf("resources %+v", rs)
	}
	m := NewMapper(rs)
	r, err := m.ForOwner(ref("x", true))
	if err != nil || r.GVR.Resource != "replicasets" {
		t.Errorf("mapped %+v %v", r, err)
	}
	if _, err := m.ForOwner(metav1.OwnerReference{APIVersion: "example.com/v1", Kind: "Widget"}); err == nil {
		t.Error("unknown kind mapped")
	}
}

func TestPatches(t *testing.T) {
	if got := string(removeRefsPatch("p", []types.UID{"a", "b"})); got != `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"a"},{"$patch":"delete","uid":"b"}],"uid":"p"}}` {
		t.Errorf("remove refs %s", got)
	}
	if got := string(unblockPatch("p", []types.UID{"a"})); got != `{"metadata":{"ownerReferences":[{"blockOwnerDeletion":false,"uid":"a"}],"uid":"p"}}` {
		t.Errorf("unblock %s", got)
	}
	if got := string(finalizersPatch(nil, "7")); got != `{"metadata":{"finalizers":[],"resourceVersion":"7"}}` {
		t.Errorf("finalizers %s", got)
	}
}
