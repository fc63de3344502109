package replicaset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

func (c *Controller) deleteRS(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.exp.Forget(key)
	}
	c.runner.EnqueueObject(obj)
}

// addPod counts an observed creation for the pod's ReplicaSet, or wakes
// every ReplicaSet that might adopt an orphan.
func (c *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if rs := c.resolveRef(pod.Namespace, ref); rs != nil {
			key := keyOf(rs)
			c.exp.CreationObserved(key)
			c.runner.Enqueue(key)
		}
		return
	}
	c.enqueueMatching(pod)
}

// updatePod wakes the old and new owners when a pod changes hands, and
// the owner again once a newly ready pod becomes available.
func (c *Controller) updatePod(old, cur any) {
	oldPod, curPod := old.(*corev1.Pod), cur.(*corev1.Pod)
	if oldPod.ResourceVersion == curPod.ResourceVersion {
		return
	}
	labelsChanged := !apiequality.Semantic.DeepEqual(oldPod.Labels, curPod.Labels)
	if curPod.DeletionTimestamp != nil {
		c.deletePod(curPod)
		if labelsChanged {
			c.deletePod(oldPod)
		}
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(oldPod), metav1.GetControllerOfNoCopy(curPod)
	refChanged := !apiequality.Semantic.DeepEqual(oldRef, curRef)
	if refChanged && oldRef != nil {
		if rs := c.resolveRef(oldPod.Namespace, oldRef); rs != nil {
			c.runner.Enqueue(keyOf(rs))
		}
	}
	if curRef != nil {
		c.wakeOwner(oldPod, curPod, curRef)
		return
	}
	if labelsChanged || refChanged {
		c.enqueueMatching(curPod)
	}
}

func (c *Controller) wakeOwner(oldPod, curPod *corev1.Pod, ref *metav1.OwnerReference) {
	rs := c.resolveRef(curPod.Namespace, ref)
	if rs == nil {
		return
	}
	key := keyOf(rs)
	c.runner.Enqueue(key)
	if m := rs.Spec.MinReadySeconds; m > 0 && !IsPodReady(oldPod) && IsPodReady(curPod) {
		c.runner.EnqueueAfter(key, time.Duration(m)*time.Second+time.Second)
	}
}

// deletePod counts an observed deletion for the pod's ReplicaSet.
func (c *Controller) deletePod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if pod, ok = tomb.Obj.(*corev1.Pod); !ok {
			return
		}
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return
	}
	if rs := c.resolveRef(pod.Namespace, ref); rs != nil {
		key := keyOf(rs)
		c.exp.DeletionObserved(key, pod.Namespace+"/"+pod.Name)
		c.runner.Enqueue(key)
	}
}

// resolveRef returns the ReplicaSet a controller reference names, if it
// is still the same object.
func (c *Controller) resolveRef(ns string, ref *metav1.OwnerReference) *appsv1.ReplicaSet {
	gvk := c.kind.GVK()
	if ref.Kind != gvk.Kind || !sameGroup(ref.APIVersion, gvk.Group) {
		return nil
	}
	rs, err := c.kind.Get(ns, ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// enqueueMatching wakes the ReplicaSets whose selector covers the pod.
func (c *Controller) enqueueMatching(pod *corev1.Pod) {
	list, err := c.kind.List(pod.Namespace)
	if err != nil {
		return
	}
	for _, rs := range list {
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		c.runner.Enqueue(keyOf(rs))
	}
}

// sameGroup says whether apiVersion is of group.
func sameGroup(apiVersion, group string) bool {
	gv, err := schema.ParseGroupVersion(apiVersion)
	return err == nil && gv.Group == group
}

func keyOf(rs *appsv1.ReplicaSet) string { return rs.Namespace + "/" + rs.Name }
