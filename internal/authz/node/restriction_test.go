package node

import (
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/authz"
)

func TestRestrict(t *testing.T) {
	nodeA := authz.User{Name: "system:node:a", Groups: []string{"system:nodes"}}
	pods := schema.GroupResource{Resource: "pods"}
	nodes := schema.GroupResource{Resource: "nodes"}
	leases := schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
	yes := true
	mirror := func(node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "d", Name: "m", Annotations: map[string]string{mirrorAnnotation: "x"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, Controller: &yes}}},
			Spec: corev1.PodSpec{NodeName: node}}
	}
	withSecret := mirror("a")
	withSecret.Spec.Volumes = []corev1.Volume{secretVolume("s")}
	cases := []struct {
		name string
		w    Write
		want string
	}{
		{"own pod status", Write{Operation: Update, Resource: pods, Subresource: "status", Name: "pa", Old: pod("d", "pa", "a")}, ""},
		{"other pod status", Write{Operation: Update, Resource: pods, Subresource: "status", Name: "pb", Old: pod("d", "pb", "b")},
			`pods "pb" is forbidden: node "a" can only update pod status for pods with spec.nodeName set to itself`},
		{"delete own pod", Write{Operation: Delete, Resource: pods, Name: "pa", Old: pod("d", "pa", "a")}, ""},
		{"delete other pod", Write{Operation: Delete, Resource: pods, Name: "pb", Old: pod("d", "pb", "b")},
			`pods "pb" is forbidden: node "a" can only delete pods with spec.nodeName set to itself`},
		{"plain pod", Write{Operation: Create, Resource: pods, Name: "p", Object: pod("d", "p", "a")},
			`pods "p" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "a" can only create mirror pods`},
		{"mirror pod", Write{Operation: Create, Resource: pods, Name: "m", Object: mirror("a")}, ""},
		{"mirror pod for another node", Write{Operation: Create, Resource: pods, Name: "m", Object: mirror("b")},
			`pods "m" is forbidden: node "a" can only create pods with spec.nodeName set to itself`},
		{"mirror pod with a secret", Write{Operation: Create, Resource: pods, Name: "m", Object: withSecret},
			`pods "m" is forbidden: node "a" can not create pods that reference secrets`},
		{"own node", Write{Operation: Update, Resource: nodes, Subresource: "status", Name: "a"}, ""},
		{"other node", Write{Operation: Update, Resource: nodes, Name: "b"}, `nodes "b" is forbidden: node "a" is not allowed to modify node "b"`},
		{"own lease", Write{Operation: Create, Resource: leases, Namespace: "kube-node-lease", Name: "a",
			Object: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "a"}}}, ""},
		{"lease elsewhere", Write{Operation: Update, Resource: leases, Namespace: "default", Name: "a"},
			`leases.coordination.k8s.io "a" is forbidden: can only access leases in the "kube-node-lease" namespace`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.w.User = nodeA
			err := Restrict(tc.w)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if err := Restrict(Write{User: authz.User{Name: "admin"}, Operation: Create, Resource: pods, Object: pod("d", "p", "b")}); err != nil {
		t.Errorf("non-node: %v", err)
	}
}
