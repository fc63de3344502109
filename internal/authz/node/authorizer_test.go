package node

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/authz"
)

func pod(ns, name, node string, vols ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{NodeName: node, Volumes: vols, ServiceAccountName: "runner",
			Containers: []corev1.Container{{Name: "c", Env: []corev1.EnvVar{{Name: "K", ValueFrom: &corev1.EnvVarSource{
				ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm-" + name}}}}}}}}}
}

func secretVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}}
}

func TestNodeAuthorizer(t *testing.T) {
	g := NewGraph()
	g.Update(nil, pod("d", "pa", "a", secretVolume("sa")))
	g.Update(nil, pod("d", "pb", "b", secretVolume("sb")))
	moved := pod("d", "pm", "a", secretVolume("moved"))
	g.Update(nil, moved)
	g.Update(moved, nil)
	az := New(g)
	nodeA := authz.User{Name: "system:node:a", Groups: []string{"system:nodes", "system:authenticated"}}
	res := func(verb, group, resource, sub, ns, name string) authz.Attributes {
		return authz.Attributes{User: nodeA, Verb: verb, ResourceRequest: true, APIGroup: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
	}
	withSelector := func(a authz.Attributes, sel string) authz.Attributes { a.FieldSelector = sel; return a }
	cases := []struct {
		name   string
		attrs  authz.Attributes
		allow  bool
		reason string
	}{
		{"own pod's secret", res("get", "", "secrets", "", "d", "sa"), true, ""},
		{"watch own pod's secret by name", res("watch", "", "secrets", "", "d", "sa"), true, ""},
		{"other node's secret", res("get", "", "secrets", "", "d", "sb"), false, "no relationship found between node 'a' and this object"},
		{"secret of a deleted pod", res("get", "", "secrets", "", "d", "moved"), false, "no relationship found between node 'a' and this object"},
		{"list all secrets", res("list", "", "secrets", "", "d", ""), false, "can only get individual resources of this type"},
		{"write a secret", res("update", "", "secrets", "", "d", "sa"), false, "can only read resources of this type"},
		{"env configmap", res("get", "", "configmaps", "", "d", "cm-pa"), true, ""},
		{"other configmap", res("get", "", "configmaps", "", "d", "cm-pb"), false, "no relationship found between node 'a' and this object"},
		{"token of its pod's account", res("create", "", "serviceaccounts", "token", "d", "runner"), true, ""},
		{"own node", res("get", "", "nodes", "", "", "a"), true, ""},
		{"other node", res("get", "", "nodes", "", "", "b"), false, "node 'a' cannot read 'b', only its own Node object"},
		{"all nodes", res("list", "", "nodes", "", "", ""), false, "node 'a' cannot read all nodes, only its own Node object"},
		{"update own node status (static rule)", res("patch", "", "nodes", "status", "", "a"), true, ""},
		{"pods on itself", withSelector(res("watch", "", "pods", "", "", ""), "spec.nodeName=a"), true, ""},
		{"all pods", res("list", "", "pods", "", "", ""), false, "can only list/watch pods with spec.nodeName field selector"},
		{"its pod", res("get", "", "pods", "", "d", "pa"), true, ""},
		{"another node's pod", res("get", "", "pods", "", "d", "pb"), false, "no relationship found between node 'a' and this object"},
		{"pod status (static rule)", res("update", "", "pods", "status", "d", "pb"), true, ""},
		{"own lease", res("update", "coordination.k8s.io", "leases", "", "kube-node-lease", "a"), true, ""},
		{"other lease", res("update", "coordination.k8s.io", "leases", "", "kube-node-lease", "b"), false, "can only access node lease with the same name as the requesting node"},
		{"services for env (static rule)", res("list", "", "services", "", "", ""), true, ""},
		{"no deployments", res("list", "apps", "deployments", "", "", ""), false, ""},
		{"not a node", authz.Attributes{User: authz.User{Name: "system:node:a"}, Verb: "get", ResourceRequest: true, Resource: "secrets", Namespace: "d", Name: "sa"}, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, reason, err := az.Authorize(context.Background(), tc.attrs)
			if err != nil {
				t.Fatal(err)
			}
			if (d == authz.Allow) != tc.allow || reason != tc.reason {
				t.Errorf("got %v %q, want allow=%v %q", d, reason, tc.allow, tc.reason)
			}
		})
	}
}
