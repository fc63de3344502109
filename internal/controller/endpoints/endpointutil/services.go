package endpointutil

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// ServiceLister returns the Services of a namespace that may select a pod
// with these labels (a superset; selectors are checked after).
type ServiceLister func(namespace string, podLabels map[string]string) ([]*corev1.Service, error)

// SelectorMatches reports whether a Service selector selects a pod with
// these labels. A nil selector selects nothing; an empty one everything.
func SelectorMatches(selector, podLabels map[string]string) bool {
	if selector == nil {
		return false
	}
	for k, v := range selector {
		if got, ok := podLabels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// ServicesForPod returns the keys of the Services in namespace whose
// selector matches podLabels.
func ServicesForPod(list ServiceLister, namespace string, podLabels map[string]string) (map[string]struct{}, error) {
	svcs, err := list(namespace, podLabels)
	if err != nil {
		return nil, err
	}
	keys := map[string]struct{}{}
	for _, svc := range svcs {
		if SelectorMatches(svc.Spec.Selector, podLabels) {
			keys[svc.Namespace+"/"+svc.Name] = struct{}{}
		}
	}
	return keys, nil
}

// ServicesForPodUpdate returns the keys of the Services an update of a
// pod concerns: none when nothing endpoints show changed, the Services of
// the new labels when only the pod changed, and those whose membership
// changed (all of old and new if the pod changed too) when labels did.
func ServicesForPodUpdate(list ServiceLister, old, cur *corev1.Pod) ([]string, error) {
	if old.ResourceVersion == cur.ResourceVersion {
		return nil, nil // a resync; Services are resynced on their own
	}
	podChanged, labelsChanged := PodEndpointsChanged(old, cur)
	if !podChanged && !labelsChanged {
		return nil, nil
	}
	now, err := ServicesForPod(list, cur.Namespace, cur.Labels)
	if err != nil || !labelsChanged {
		return sortedKeys(now), err
	}
	before, err := ServicesForPod(list, old.Namespace, old.Labels)
	if err != nil {
		return nil, err
	}
	return sortedKeys(membershipChanges(before, now, podChanged)), nil
}

// membershipChanges is the union of both sets when the pod itself
// changed, else their symmetric difference.
func membershipChanges(before, now map[string]struct{}, podChanged bool) map[string]struct{} {
	out := map[string]struct{}{}
	for k := range now {
		if _, both := before[k]; podChanged || !both {
			out[k] = struct{}{}
		}
	}
	for k := range before {
		if _, both := now[k]; podChanged || !both {
			out[k] = struct{}{}
		}
	}
	return out
}

// PodEndpointsChanged compares two versions of a pod: podChanged when
// what an endpoint shows of it changed (deletion, readiness, IPs),
// labelsChanged when its labels, hostname or subdomain did.
func PodEndpointsChanged(old, cur *corev1.Pod) (podChanged, labelsChanged bool) {
	labelsChanged = !maps.Equal(old.Labels, cur.Labels) ||
		old.Spec.Hostname != cur.Spec.Hostname || old.Spec.Subdomain != cur.Spec.Subdomain
	podChanged = (old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil) ||
		IsPodReady(old) != IsPodReady(cur) ||
		!slices.Equal(PodIPs(old), PodIPs(cur)) ||
		old.Status.Phase != cur.Status.Phase
	return podChanged, labelsChanged
}

// PodFromDelete returns the pod of a delete event, tombstones included.
func PodFromDelete(obj any) *corev1.Pod {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, _ := obj.(*corev1.Pod)
	return pod
}

func sortedKeys(m map[string]struct{}) []string {
	return slices.Sorted(maps.Keys(m))
}
