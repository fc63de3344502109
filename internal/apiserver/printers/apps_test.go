package printers

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func podTemplate(images ...string) corev1.PodTemplateSpec {
	var t corev1.PodTemplateSpec
	names := []string{"web", "sidecar", "extra"}
	for i, im := range images {
		t.Spec.Containers = append(t.Spec.Containers, corev1.Container{Name: names[i], Image: im})
	}
	return t
}

func deployment(mutate func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: objMeta("web", 3*24*time.Hour),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate("nginx:1.27"),
		},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2},
	}
	if mutate != nil {
		mutate(d)
	}
	return d
}

func TestDeploymentRows(t *testing.T) {
	testRows(t, schema.GroupResource{Group: "apps", Resource: "deployments"}, []rowCase{
		{"rolling", deployment(nil), "web | 2/3 | 3 | 2 | 3d | web | nginx:1.27 | app=web"},
		{"two containers, expression selector", deployment(func(d *appsv1.Deployment) {
			d.Spec.Template = podTemplate("nginx:1.27", "envoy:1.30")
			d.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{
				{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"b", "a"}},
			}
		}), "web | 2/3 | 3 | 2 | 3d | web,sidecar | nginx:1.27,envoy:1.30 | app=web,tier in (a,b)"},
		{"nil replicas and selector", deployment(func(d *appsv1.Deployment) {
			d.Spec.Replicas, d.Spec.Selector = nil, nil
			d.Status = appsv1.DeploymentStatus{}
		}), "web | 0/0 | 0 | 0 | 3d | web | nginx:1.27 | "},
		{"empty selector", deployment(func(d *appsv1.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{}
		}), "web | 2/3 | 3 | 2 | 3d | web | nginx:1.27 | "},
		{"invalid selector", deployment(func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Near"}}
		}), "web | 2/3 | 3 | 2 | 3d | web | nginx:1.27 | <invalid>"},
	})
}

func TestReplicaSetRows(t *testing.T) {
	rs := func(mutate func(*appsv1.ReplicaSet)) *appsv1.ReplicaSet {
		r := &appsv1.ReplicaSet{
			ObjectMeta: objMeta("web-7d4b9c8f5", 45*time.Minute),
			Spec: appsv1.ReplicaSetSpec{
				Replicas: ptr(int32(3)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "pod-template-hash": "7d4b9c8f5"}},
				Template: podTemplate("nginx:1.27"),
			},
			Status: appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1},
		}
		if mutate != nil {
			mutate(r)
		}
		return r
	}
	testRows(t, schema.GroupResource{Group: "apps", Resource: "replicasets"}, []rowCase{
		{"scaling", rs(nil), "web-7d4b9c8f5 | 3 | 3 | 1 | 45m | web | nginx:1.27 | app=web,pod-template-hash=7d4b9c8f5"},
		{"nil replicas and selector", rs(func(r *appsv1.ReplicaSet) {
			r.Spec.Replicas, r.Spec.Selector, r.Status = nil, nil, appsv1.ReplicaSetStatus{}
		}), "web-7d4b9c8f5 | 0 | 0 | 0 | 45m | web | nginx:1.27 | <none>"},
		{"empty selector", rs(func(r *appsv1.ReplicaSet) { r.Spec.Selector = &metav1.LabelSelector{} }),
			"web-7d4b9c8f5 | 3 | 3 | 1 | 45m | web | nginx:1.27 | <none>"},
		{"invalid selector", rs(func(r *appsv1.ReplicaSet) {
			r.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Near"}}
		}), "web-7d4b9c8f5 | 3 | 3 | 1 | 45m | web | nginx:1.27 | <error>"},
		{"no containers", rs(func(r *appsv1.ReplicaSet) { r.Spec.Template = corev1.PodTemplateSpec{} }),
			"web-7d4b9c8f5 | 3 | 3 | 1 | 45m |  |  | app=web,pod-template-hash=7d4b9c8f5"},
	})
}

func TestReplicationControllerRows(t *testing.T) {
	tpl := podTemplate("nginx:1.27", "envoy:1.30")
	rc := &corev1.ReplicationController{
		ObjectMeta: objMeta("web", 2*time.Hour),
		Spec:       corev1.ReplicationControllerSpec{Replicas: ptr(int32(3)), Selector: map[string]string{"name": "web", "app": "x"}, Template: &tpl},
		Status:     corev1.ReplicationControllerStatus{Replicas: 3, ReadyReplicas: 2},
	}
	testRows(t, schema.GroupResource{Resource: "replicationcontrollers"}, []rowCase{
		{"scaled", rc, "web | 3 | 3 | 2 | 120m | web,sidecar | nginx:1.27,envoy:1.30 | app=x,name=web"},
		{"no template, selector or replicas", &corev1.ReplicationController{ObjectMeta: objMeta("bare", time.Minute)},
			"bare | 0 | 0 | 0 | 60s |  |  | <none>"},
	})
}
