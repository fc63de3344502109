// Package quota computes what objects count against a ResourceQuota, as
// upstream's quota evaluators do (k8s.io/kubernetes pkg/quota/v1), and
// checks a new object's usage against a namespace's quotas, as the
// ResourceQuota admission plugin does. It is pure: the API server's
// admission and the resourcequota controller both build on it.
package quota

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// legacyName is the object count with a name of its own besides
// count/<resource>, "" if none.
func legacyName(gr schema.GroupResource) corev1.ResourceName {
	if gr.Group != "" {
		return ""
	}
	switch gr.Resource {
	case "pods", "services", "configmaps", "secrets", "replicationcontrollers", "resourcequotas", "persistentvolumeclaims":
		return corev1.ResourceName(gr.Resource)
	}
	return ""
}

// CountName is the object count name of a resource: count/pods,
// count/deployments.apps.
func CountName(gr schema.GroupResource) corev1.ResourceName {
	return corev1.ResourceName("count/" + gr.String())
}

// Usage returns what obj, an object of resource gr, counts against a
// quota: its object counts, and for pods and services what they hold.
// A pod that no longer runs (Succeeded, Failed, or past its deletion
// grace period) counts only in count/pods, as upstream's. now is the time
// of the computation.
func Usage(gr schema.GroupResource, obj runtime.Object, now time.Time) corev1.ResourceList {
	switch o := obj.(type) {
	case *corev1.Pod:
		if gr.Group == "" && gr.Resource == "pods" {
			return podUsage(o, now)
		}
	case *corev1.Service:
		if gr.Group == "" && gr.Resource == "services" {
			return serviceUsage(o)
		}
	}
	return countUsage(gr)
}

func countUsage(gr schema.GroupResource) corev1.ResourceList {
	one := *resource.NewQuantity(1, resource.DecimalSI)
	out := corev1.ResourceList{CountName(gr): one}
	if name := legacyName(gr); name != "" {
		out[name] = one.DeepCopy()
	}
	return out
}

// PodCounts says whether a pod counts against quota: not terminal and not
// past the end of its deletion grace period.
func PodCounts(p *corev1.Pod, now time.Time) bool {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return false
	}
	if p.DeletionTimestamp != nil && p.DeletionGracePeriodSeconds != nil {
		end := p.DeletionTimestamp.Add(time.Duration(*p.DeletionGracePeriodSeconds) * time.Second)
		if now.After(end) {
			return false
		}
	}
	return true
}

// computeName is a pod resource quota counts: the name a quota uses and
// the container resource it adds up, of requests or limits.
type computeName struct {
	quota  corev1.ResourceName
	base   corev1.ResourceName
	limits bool
}

func computeNames() []computeName {
	return []computeName{
		{corev1.ResourceCPU, corev1.ResourceCPU, false},
		{corev1.ResourceMemory, corev1.ResourceMemory, false},
		{corev1.ResourceEphemeralStorage, corev1.ResourceEphemeralStorage, false},
		{corev1.ResourceRequestsCPU, corev1.ResourceCPU, false},
		{corev1.ResourceRequestsMemory, corev1.ResourceMemory, false},
		{corev1.ResourceRequestsEphemeralStorage, corev1.ResourceEphemeralStorage, false},
		{corev1.ResourceLimitsCPU, corev1.ResourceCPU, true},
		{corev1.ResourceLimitsMemory, corev1.ResourceMemory, true},
		{corev1.ResourceLimitsEphemeralStorage, corev1.ResourceEphemeralStorage, true},
	}
}

func podUsage(p *corev1.Pod, now time.Time) corev1.ResourceList {
	out := corev1.ResourceList{CountName(schema.GroupResource{Resource: "pods"}): *resource.NewQuantity(1, resource.DecimalSI)}
	if !PodCounts(p, now) {
		return out
	}
	out[corev1.ResourcePods] = *resource.NewQuantity(1, resource.DecimalSI)
	requests, limits := podResources(p)
	for _, n := range computeNames() {
		from := requests
		if n.limits {
			from = limits
		}
		if q, ok := from[n.base]; ok {
			out[n.quota] = q.DeepCopy()
		}
	}
	return out
}

// podResources adds up the containers' requests and limits, raised to the
// largest init container's, plus the pod's overhead, as upstream's
// resource helpers do.
func podResources(p *corev1.Pod) (requests, limits corev1.ResourceList) {
	requests, limits = corev1.ResourceList{}, corev1.ResourceList{}
	for _, c := range p.Spec.Containers {
		add(requests, c.Resources.Requests)
		add(limits, c.Resources.Limits)
	}
	for _, c := range p.Spec.InitContainers {
		raise(requests, c.Resources.Requests)
		raise(limits, c.Resources.Limits)
	}
	add(requests, p.Spec.Overhead)
	if len(limits) > 0 {
		add(limits, p.Spec.Overhead)
	}
	return requests, limits
}

func serviceUsage(s *corev1.Service) corev1.ResourceList {
	out := countUsage(schema.GroupResource{Resource: "services"})
	nodePorts, lbs := int64(0), int64(0)
	switch s.Spec.Type {
	case corev1.ServiceTypeNodePort:
		nodePorts = int64(len(s.Spec.Ports))
	case corev1.ServiceTypeLoadBalancer:
		lbs = 1
		nodePorts = int64(len(s.Spec.Ports))
		if s.Spec.AllocateLoadBalancerNodePorts != nil && !*s.Spec.AllocateLoadBalancerNodePorts {
			nodePorts = 0
			for _, p := range s.Spec.Ports {
				if p.NodePort != 0 {
					nodePorts++
				}
			}
		}
	}
	out[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(nodePorts, resource.DecimalSI)
	out[corev1.ResourceServicesLoadBalancers] = *resource.NewQuantity(lbs, resource.DecimalSI)
	return out
}

// add adds b into a.
func add(a, b corev1.ResourceList) {
	for k, v := range b {
		q := a[k]
		q.Add(v)
		a[k] = q
	}
}

// raise sets each of a's values to b's where b's is larger.
func raise(a, b corev1.ResourceList) {
	for k, v := range b {
		if q, ok := a[k]; !ok || v.Cmp(q) > 0 {
			a[k] = v.DeepCopy()
		}
	}
}
