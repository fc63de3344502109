package endpointutil

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TriggerTimeTracker computes the endpoints.kubernetes.io/
// last-change-trigger-time of a Service's endpoints: the earliest trigger
// (a pod's Ready transition, the Service's creation) that changed since
// the previous sync of that Service. Calls for one Service must not run
// concurrently; different Services may.
type TriggerTimeTracker struct {
	mu     sync.Mutex
	states map[string]triggerState
}

type triggerState struct {
	service time.Time
	pods    map[string]time.Time
}

// NewTriggerTimeTracker returns an empty tracker.
func NewTriggerTimeTracker() *TriggerTimeTracker {
	return &TriggerTimeTracker{states: map[string]triggerState{}}
}

// Compute records the Service's current triggers and returns the time to
// annotate: the Service's creation on its first sync, else the earliest
// changed trigger, or zero when none changed.
func (t *TriggerTimeTracker) Compute(svc *corev1.Service, pods []*corev1.Pod) time.Time {
	key := svc.Namespace + "/" + svc.Name
	t.mu.Lock()
	prev, known := t.states[key]
	t.mu.Unlock()

	next := triggerState{service: svc.CreationTimestamp.Time, pods: make(map[string]time.Time, len(pods))}
	var earliest time.Time
	for _, pod := range pods {
		c := ReadyCondition(pod)
		if c == nil || c.LastTransitionTime.IsZero() {
			continue
		}
		at := c.LastTransitionTime.Time
		next.pods[pod.Name] = at
		if at.After(prev.pods[pod.Name]) {
			earliest = earlier(earliest, at)
		}
	}
	if next.service.After(prev.service) {
		earliest = earlier(earliest, next.service)
	}

	t.mu.Lock()
	t.states[key] = next
	t.mu.Unlock()
	if !known {
		return svc.CreationTimestamp.Time
	}
	return earliest
}

// Forget drops what is known of a Service.
func (t *TriggerTimeTracker) Forget(namespace, name string) {
	t.mu.Lock()
	delete(t.states, namespace+"/"+name)
	t.mu.Unlock()
}

func earlier(cur, t time.Time) time.Time {
	if cur.IsZero() || t.Before(cur) {
		return t
	}
	return cur
}

// SetTriggerTime sets or, for a zero time, removes the
// last-change-trigger-time annotation.
func SetTriggerTime(annotations map[string]string, t time.Time) {
	if t.IsZero() {
		delete(annotations, corev1.EndpointsLastChangeTriggerTime)
		return
	}
	annotations[corev1.EndpointsLastChangeTriggerTime] = t.UTC().Format(time.RFC3339Nano)
}
