package endpoints

import (
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// overCapacity is the value of the over-capacity annotation.
const overCapacity = "truncated"

// Op is the write a reconcile asks for.
type Op int

const (
	// OpNone: the stored Endpoints is already right.
	OpNone Op = iota
	// OpCreate: no Endpoints is stored; create Result.Endpoints.
	OpCreate
	// OpUpdate: replace the stored Endpoints with Result.Endpoints.
	OpUpdate
)

// Input is what a Service's Endpoints are computed from.
type Input struct {
	// Service has a selector and is not ExternalName.
	Service *corev1.Service
	// Pods are those the Service's selector matches.
	Pods []*corev1.Pod
	// Current is the stored Endpoints, nil when there is none.
	Current *corev1.Endpoints
	// TriggerTime is the last-change-trigger-time to annotate (zero
	// removes the annotation).
	TriggerTime time.Time
}

// Result is the Endpoints to write, if any.
type Result struct {
	Op        Op
	Endpoints *corev1.Endpoints
}

// Reconcile returns the Endpoints a Service should have for its pods, and
// whether that means a create, an update or nothing. An update is asked
// for only when the subsets (ignoring targets' resourceVersions), labels
// or over-capacity annotation differ from the stored ones.
func Reconcile(in Input) Result {
	subsets, truncated := truncate(endpointutil.RepackSubsets(podSubsets(in.Service, in.Pods)))
	labels := desiredLabels(in.Service)
	if in.Current != nil && upToDate(in.Current, subsets, labels, truncated) {
		return Result{Op: OpNone}
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: in.Service.Name, Namespace: in.Service.Namespace}}
	op := OpCreate
	if in.Current != nil {
		ep, op = in.Current.DeepCopy(), OpUpdate
	}
	ep.Subsets, ep.Labels = subsets, labels
	ep.Annotations = maps.Clone(ep.Annotations)
	if ep.Annotations == nil {
		ep.Annotations = map[string]string{}
	}
	endpointutil.SetTriggerTime(ep.Annotations, in.TriggerTime)
	if truncated {
		ep.Annotations[corev1.EndpointsOverCapacity] = overCapacity
	} else {
		delete(ep.Annotations, corev1.EndpointsOverCapacity)
	}
	return Result{Op: op, Endpoints: ep}
}

// desiredLabels are the Service's labels, plus service.kubernetes.io/
// headless for a Service without a cluster IP.
func desiredLabels(svc *corev1.Service) map[string]string {
	labels := maps.Clone(svc.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	if endpointutil.IsServiceIPSet(svc) {
		delete(labels, corev1.IsHeadlessService)
	} else {
		labels[corev1.IsHeadlessService] = ""
	}
	return labels
}

func upToDate(cur *corev1.Endpoints, subsets []corev1.EndpointSubset, labels map[string]string, truncated bool) bool {
	_, annotated := cur.Annotations[corev1.EndpointsOverCapacity]
	return annotated == truncated && maps.Equal(cur.Labels, labels) && subsetsEqual(cur.Subsets, subsets)
}
