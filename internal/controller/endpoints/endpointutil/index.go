package endpointutil

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// Index names the controllers add to the shared informers, so that a sync
// finds a Service's pods, and a pod event its Services, without scanning
// the namespace.
const (
	PodLabelIndex        = "svcplane.io/pod-label"
	ServiceSelectorIndex = "svcplane.io/service-selector"
)

// selectAll is the index value of Services with an empty selector.
const selectAll = "*"

// AddIndexes adds the pod-label and service-selector indexes to the
// informers unless present. Call before the informers start.
func AddIndexes(pods, services cache.SharedIndexInformer) error {
	if err := addIndex(pods, PodLabelIndex, podLabelValues); err != nil {
		return err
	}
	return addIndex(services, ServiceSelectorIndex, serviceSelectorValues)
}

func addIndex(inf cache.SharedIndexInformer, name string, fn cache.IndexFunc) error {
	if _, ok := inf.GetIndexer().GetIndexers()[name]; ok {
		return nil
	}
	if err := inf.AddIndexers(cache.Indexers{name: fn}); err != nil {
		return fmt.Errorf("add index %s: %w", name, err)
	}
	return nil
}

func pair(ns, k, v string) string { return ns + "/" + k + "=" + v }

// podLabelValues indexes a pod under each of its labels.
func podLabelValues(obj any) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	out := make([]string, 0, len(pod.Labels))
	for k, v := range pod.Labels {
		out = append(out, pair(pod.Namespace, k, v))
	}
	return out, nil
}

// serviceSelectorValues indexes a Service under each pair of its selector
// (under "*" when the selector is empty; not at all when it is nil).
func serviceSelectorValues(obj any) ([]string, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok || svc.Spec.Selector == nil {
		return nil, nil
	}
	if len(svc.Spec.Selector) == 0 {
		return []string{svc.Namespace + "/" + selectAll}, nil
	}
	out := make([]string, 0, len(svc.Spec.Selector))
	for k, v := range svc.Spec.Selector {
		out = append(out, pair(svc.Namespace, k, v))
	}
	return out, nil
}

// PodsForService returns the pods the Service's selector matches, looked
// up through the smallest label bucket of its selector.
func PodsForService(pods cache.Indexer, svc *corev1.Service) ([]*corev1.Pod, error) {
	if len(svc.Spec.Selector) == 0 {
		var out []*corev1.Pod
		err := cache.ListAllByNamespace(pods, svc.Namespace, labels.Everything(), func(o any) {
			out = append(out, o.(*corev1.Pod))
		})
		return out, err
	}
	best, bestLen := "", -1
	for k, v := range svc.Spec.Selector {
		key := pair(svc.Namespace, k, v)
		keys, err := pods.IndexKeys(PodLabelIndex, key)
		if err != nil {
			return nil, err
		}
		if bestLen < 0 || len(keys) < bestLen {
			best, bestLen = key, len(keys)
		}
	}
	objs, err := pods.ByIndex(PodLabelIndex, best)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if pod := o.(*corev1.Pod); SelectorMatches(svc.Spec.Selector, pod.Labels) {
			out = append(out, pod)
		}
	}
	return out, nil
}

// ServiceCandidatesFrom returns a ServiceLister that offers, for a pod's
// labels, only the Services indexed under one of them (or selecting
// everything).
func ServiceCandidatesFrom(services cache.Indexer) ServiceLister {
	return func(ns string, podLabels map[string]string) ([]*corev1.Service, error) {
		seen := map[string]*corev1.Service{}
		keys := []string{ns + "/" + selectAll}
		for k, v := range podLabels {
			keys = append(keys, pair(ns, k, v))
		}
		for _, key := range keys {
			objs, err := services.ByIndex(ServiceSelectorIndex, key)
			if err != nil {
				return nil, err
			}
			for _, o := range objs {
				svc := o.(*corev1.Service)
				seen[svc.Name] = svc
			}
		}
		out := make([]*corev1.Service, 0, len(seen))
		for _, svc := range seen {
			out = append(out, svc)
		}
		return out, nil
	}
}

// SliceServiceIndex indexes EndpointSlices by namespace/service-name
// label.
const SliceServiceIndex = "svcplane.io/slice-service"

// AddSliceIndex adds the slice-by-Service index unless present. Call
// before the informer starts.
func AddSliceIndex(slices cache.SharedIndexInformer) error {
	return addIndex(slices, SliceServiceIndex, func(obj any) ([]string, error) {
		s, ok := obj.(*discoveryv1.EndpointSlice)
		if !ok {
			return nil, nil
		}
		if key := ServiceKey(s); key != "" {
			return []string{key}, nil
		}
		return nil, nil
	})
}

// SlicesFor returns the slices of Service namespace/name that managedBy
// manages, leaving out those pending deletion.
func SlicesFor(slices cache.Indexer, namespace, name, managedBy string) ([]*discoveryv1.EndpointSlice, error) {
	objs, err := slices.ByIndex(SliceServiceIndex, namespace+"/"+name)
	if err != nil {
		return nil, err
	}
	var out []*discoveryv1.EndpointSlice
	for _, o := range objs {
		s := o.(*discoveryv1.EndpointSlice)
		if s.Labels[discoveryv1.LabelManagedBy] == managedBy && s.DeletionTimestamp == nil {
			out = append(out, s)
		}
	}
	return out, nil
}
