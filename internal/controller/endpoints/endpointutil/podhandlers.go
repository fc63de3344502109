package endpointutil

import (
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// PodHandlers are the pod event handlers of a controller keyed by Service:
// each pod event queues the Services whose selectors cover the pod (before
// or after a label change).
type PodHandlers struct {
	// Candidates lists the Services that may select a pod.
	Candidates ServiceLister
	// Enqueue queues one Service key.
	Enqueue func(key string)
	Logger  *slog.Logger
}

// Funcs returns the handlers for a pod informer.
func (h PodHandlers) Funcs() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{AddFunc: h.onPod, UpdateFunc: h.onUpdate, DeleteFunc: h.onDelete}
}

func (h PodHandlers) onPod(obj any) {
	if pod, ok := obj.(*corev1.Pod); ok {
		h.Queue(pod)
	}
}

// Queue queues the Services that select pod.
func (h PodHandlers) Queue(pod *corev1.Pod) {
	keys, err := ServicesForPod(h.Candidates, pod.Namespace, pod.Labels)
	h.warn(pod, err)
	for k := range keys {
		h.Enqueue(k)
	}
}

func (h PodHandlers) onUpdate(old, cur any) {
	oldPod, ok1 := old.(*corev1.Pod)
	curPod, ok2 := cur.(*corev1.Pod)
	if !ok1 || !ok2 {
		return
	}
	keys, err := ServicesForPodUpdate(h.Candidates, oldPod, curPod)
	h.warn(curPod, err)
	for _, k := range keys {
		h.Enqueue(k)
	}
}

func (h PodHandlers) onDelete(obj any) {
	if pod := PodFromDelete(obj); pod != nil {
		h.Queue(pod)
	}
}

func (h PodHandlers) warn(pod *corev1.Pod, err error) {
	if err != nil && h.Logger != nil {
		h.Logger.Warn("map pod to services", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
}
