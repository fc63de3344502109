package replicaset

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Kind is the workload the controller keeps, seen as ReplicaSets: the
// ReplicaSets themselves, or ReplicationControllers converted both ways,
// as upstream's replication controller runs the ReplicaSet controller
// over adapters.
type Kind interface {
	// GVK is the kind in the pods' controller references.
	GVK() schema.GroupVersionKind
	Informer() cache.SharedIndexInformer
	// Get and List read the informer's cache.
	Get(ns, name string) (*appsv1.ReplicaSet, error)
	List(ns string) ([]*appsv1.ReplicaSet, error)
	// Fetch reads the object from the API server.
	Fetch(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error)
	// UpdateStatus writes rs.Status through the status subresource.
	UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	// Object is what events about rs are reported on.
	Object(rs *appsv1.ReplicaSet) runtime.Object
}

// ReplicaSets is the Kind of apps/v1 ReplicaSets.
func ReplicaSets(client kubernetes.Interface, inf appsinformers.ReplicaSetInformer) Kind {
	return rsKind{client: client, inf: inf}
}

type rsKind struct {
	client kubernetes.Interface
	inf    appsinformers.ReplicaSetInformer
}

func (k rsKind) GVK() schema.GroupVersionKind {
	return appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
}
func (k rsKind) Informer() cache.SharedIndexInformer { return k.inf.Informer() }
func (k rsKind) Object(rs *appsv1.ReplicaSet) runtime.Object {
	return rs
}

func (k rsKind) Get(ns, name string) (*appsv1.ReplicaSet, error) {
	return k.inf.Lister().ReplicaSets(ns).Get(name)
}

func (k rsKind) List(ns string) ([]*appsv1.ReplicaSet, error) {
	return k.inf.Lister().ReplicaSets(ns).List(labels.Everything())
}

func (k rsKind) Fetch(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
	return k.client.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
}

func (k rsKind) UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return k.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
}

// ReplicationControllers is the Kind of core/v1 ReplicationControllers.
func ReplicationControllers(client kubernetes.Interface, inf coreinformers.ReplicationControllerInformer) Kind {
	return rcKind{client: client, inf: inf}
}

type rcKind struct {
	client kubernetes.Interface
	inf    coreinformers.ReplicationControllerInformer
}

func (k rcKind) GVK() schema.GroupVersionKind {
	return corev1.SchemeGroupVersion.WithKind("ReplicationController")
}
func (k rcKind) Informer() cache.SharedIndexInformer { return k.inf.Informer() }

func (k rcKind) Object(rs *appsv1.ReplicaSet) runtime.Object {
	return &corev1.ReplicationController{ObjectMeta: rs.ObjectMeta}
}

func (k rcKind) Get(ns, name string) (*appsv1.ReplicaSet, error) {
	rc, err := k.inf.Lister().ReplicationControllers(ns).Get(name)
	if err != nil {
		return nil, err
	}
	return FromRC(rc), nil
}

func (k rcKind) List(ns string) ([]*appsv1.ReplicaSet, error) {
	list, err := k.inf.Lister().ReplicationControllers(ns).List(labels.Everything())
	out := make([]*appsv1.ReplicaSet, len(list))
	for i, rc := range list {
		out[i] = FromRC(rc)
	}
	return out, err
}

func (k rcKind) Fetch(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
	rc, err := k.client.CoreV1().ReplicationControllers(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return FromRC(rc), nil
}

func (k rcKind) UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	// The spec is ignored by a status write; only metadata and status count.
	rc := &corev1.ReplicationController{ObjectMeta: rs.ObjectMeta, Status: ToRCStatus(rs.Status)}
	rc.Spec.Selector = rs.Spec.Selector.MatchLabels
	updated, err := k.client.CoreV1().ReplicationControllers(rs.Namespace).UpdateStatus(ctx, rc, metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	return FromRC(updated), nil
}

// FromRC is rc as a ReplicaSet: its selector as matchLabels, a missing
// template as an empty one.
func FromRC(rc *corev1.ReplicationController) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: *rc.ObjectMeta.DeepCopy()}
	rs.Spec.Replicas = rc.Spec.Replicas
	rs.Spec.MinReadySeconds = rc.Spec.MinReadySeconds
	rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: rc.Spec.Selector}
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template.DeepCopy()
	}
	s := rc.Status
	rs.Status = appsv1.ReplicaSetStatus{Replicas: s.Replicas, FullyLabeledReplicas: s.FullyLabeledReplicas,
		ReadyReplicas: s.ReadyReplicas, AvailableReplicas: s.AvailableReplicas, ObservedGeneration: s.ObservedGeneration}
	for _, c := range s.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
	}
	return rs
}

// ToRCStatus is a ReplicaSet status as a ReplicationController's.
func ToRCStatus(s appsv1.ReplicaSetStatus) corev1.ReplicationControllerStatus {
	out := corev1.ReplicationControllerStatus{Replicas: s.Replicas, FullyLabeledReplicas: s.FullyLabeledReplicas,
		ReadyReplicas: s.ReadyReplicas, AvailableReplicas: s.AvailableReplicas, ObservedGeneration: s.ObservedGeneration}
	for _, c := range s.Conditions {
		out.Conditions = append(out.Conditions, corev1.ReplicationControllerCondition{
			Type: corev1.ReplicationControllerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
	}
	return out
}
