package metrics

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// TriggerTime reads the endpoints.kubernetes.io/last-change-trigger-time
// annotation the EndpointSlice controller sets (RFC 3339 with nanoseconds,
// as upstream writes and parses it): the time of the Service or Pod change
// the slice reflects. It reports false when the annotation is absent or
// unparsable.
func TriggerTime(slice *discoveryv1.EndpointSlice) (time.Time, bool) {
	if slice == nil {
		return time.Time{}, false
	}
	v, ok := slice.Annotations[corev1.EndpointsLastChangeTriggerTime]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
