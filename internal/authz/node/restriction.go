package node

import (
	"errors"
	"fmt"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/authz"
)

// Operations a write is.
const (
	Create = "CREATE"
	Update = "UPDATE"
	Delete = "DELETE"
)

// Write describes one write for NodeRestriction.
type Write struct {
	User        authz.User
	Operation   string
	Resource    schema.GroupResource
	Subresource string
	Namespace   string
	Name        string
	// Object is the new state (nil on delete), Old the stored one (nil on
	// create).
	Object, Old runtime.Object
}

// mirrorAnnotation marks a mirror pod (kubernetes.io/config.mirror).
const mirrorAnnotation = corev1.MirrorPodAnnotationKey

// Restrict is the NodeRestriction admission plugin: a node writes only its
// own Node and Lease, the status of its pods, deletes only its pods, and
// creates only mirror pods bound to itself that reference nothing. It
// returns a 403 for a write a node may not make, nil otherwise (and for
// users that are not nodes).
func Restrict(w Write) error {
	node, ok := NodeName(w.User)
	if !ok {
		return nil
	}
	var err error
	switch w.Resource.String() {
	case "pods":
		err = restrictPod(node, w)
	case "nodes":
		err = restrictNode(node, w)
	case "leases.coordination.k8s.io":
		err = restrictLease(node, w)
	}
	if err != nil {
		return apierrors.NewForbidden(w.Resource, w.Name, err)
	}
	return nil
}

func restrictPod(node string, w Write) error {
	switch {
	case w.Subresource == "status":
		if old, ok := w.Old.(*corev1.Pod); ok && old.Spec.NodeName != node {
			return fmt.Errorf("node %q can only update pod status for pods with spec.nodeName set to itself", node)
		}
		return nil
	case w.Subresource != "":
		return nil
	case w.Operation == Create:
		pod, _ := w.Object.(*corev1.Pod)
		return admitMirrorPod(node, pod)
	case w.Operation == Delete:
		if old, ok := w.Old.(*corev1.Pod); ok && old.Spec.NodeName != node {
			return fmt.Errorf("node %q can only delete pods with spec.nodeName set to itself", node)
		}
		return nil
	}
	return fmt.Errorf("unexpected operation %q, node %q can only create and delete mirror pods", w.Operation, node)
}

// admitMirrorPod checks a pod a node creates: a mirror pod, bound to the
// node, owned by it, using no other API object.
func admitMirrorPod(node string, pod *corev1.Pod) error {
	if pod == nil {
		return errors.New("unexpected object")
	}
	if _, ok := pod.Annotations[mirrorAnnotation]; !ok {
		return fmt.Errorf("pod does not have %q annotation, node %q can only create mirror pods", mirrorAnnotation, node)
	}
	if pod.Spec.NodeName != node {
		return fmt.Errorf("node %q can only create pods with spec.nodeName set to itself", node)
	}
	if err := ownedByNode(node, pod); err != nil {
		return err
	}
	if pod.Spec.ServiceAccountName != "" {
		return fmt.Errorf("node %q can not create pods that reference a service account", node)
	}
	for _, r := range PodRefs(pod) {
		switch r.Kind {
		case KindSecret:
			return fmt.Errorf("node %q can not create pods that reference secrets", node)
		case KindConfigMap:
			return fmt.Errorf("node %q can not create pods that reference configmaps", node)
		case KindPVC:
			return fmt.Errorf("node %q can not create pods that reference persistentvolumeclaims", node)
		}
	}
	return nil
}

func ownedByNode(node string, pod *corev1.Pod) error {
	refs := pod.OwnerReferences
	switch {
	case len(refs) > 1:
		return fmt.Errorf("node %q can only create pods with a single owner reference set to itself", node)
	case len(refs) == 0, refs[0].APIVersion != "v1" || refs[0].Kind != "Node" || refs[0].Name != node:
		return fmt.Errorf("node %q can only create pods with an owner reference set to itself", node)
	case refs[0].Controller == nil || !*refs[0].Controller:
		return fmt.Errorf("node %q can only create pods with a controller owner reference set to itself", node)
	case refs[0].BlockOwnerDeletion != nil && *refs[0].BlockOwnerDeletion:
		return fmt.Errorf("node %q must not set blockOwnerDeletion on an owner reference", node)
	}
	return nil
}

func restrictNode(node string, w Write) error {
	if w.Name != node {
		return fmt.Errorf("node %q is not allowed to modify node %q", node, w.Name)
	}
	obj, _ := w.Object.(*corev1.Node)
	old, _ := w.Old.(*corev1.Node)
	if w.Operation == Update && w.Subresource == "" && obj != nil && old != nil &&
		!apiequality.Semantic.DeepEqual(obj.Spec.Taints, old.Spec.Taints) {
		return fmt.Errorf("node %q is not allowed to modify taints", node)
	}
	return nil
}

func restrictLease(node string, w Write) error {
	if w.Namespace != corev1.NamespaceNodeLease {
		return fmt.Errorf("can only access leases in the %q namespace", corev1.NamespaceNodeLease)
	}
	name := w.Name
	if l, ok := w.Object.(*coordinationv1.Lease); ok {
		name = l.Name
	}
	if name != node {
		return errors.New("can only access node lease with the same name as the requesting node")
	}
	return nil
}
