package replicaset

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ControllerRef is the controller owner reference rs sets on its pods.
func ControllerRef(rs *appsv1.ReplicaSet) metav1.OwnerReference {
	return *metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))
}

// PodFromTemplate is a new pod of rs: the template's labels, annotations,
// finalizers and spec, a controller reference to rs and the name prefix
// "<rs>-" for the server to complete.
func PodFromTemplate(rs *appsv1.ReplicaSet) (*corev1.Pod, error) {
	return podFromTemplate(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))
}

// podFromTemplate is PodFromTemplate with a controller reference of kind
// gvk.
func podFromTemplate(rs *appsv1.ReplicaSet, gvk schema.GroupVersionKind) (*corev1.Pod, error) {
	t := rs.Spec.Template.DeepCopy()
	if len(t.Labels) == 0 {
		return nil, fmt.Errorf("unable to create pods, no labels")
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    podPrefix(rs.Name),
			Namespace:       rs.Namespace,
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, gvk)},
		},
		Spec: t.Spec,
	}, nil
}

// podPrefix is "<name>-", or "<name>" when that is not a valid prefix, as
// upstream's getPodsPrefix does.
func podPrefix(name string) string {
	prefix := name + "-"
	if len(apivalidation.NameIsDNSSubdomain(prefix, true)) != 0 {
		return name
	}
	return prefix
}
