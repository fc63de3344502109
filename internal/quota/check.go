package quota

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/qos"
)

// Known returns the resource names quota counts for objects of gr.
func Known(gr schema.GroupResource) []corev1.ResourceName {
	out := []corev1.ResourceName{CountName(gr)}
	if name := legacyName(gr); name != "" && name != corev1.ResourcePods {
		out = append(out, name)
	}
	switch {
	case gr.Group == "" && gr.Resource == "pods":
		out = append(out, corev1.ResourcePods)
		for _, n := range computeNames() {
			out = append(out, n.quota)
		}
	case gr.Group == "" && gr.Resource == "services":
		out = append(out, corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers)
	}
	return out
}

// MatchingResources returns the names among names that quota counts for
// objects of gr.
func MatchingResources(gr schema.GroupResource, names []corev1.ResourceName) []corev1.ResourceName {
	known := Known(gr)
	var out []corev1.ResourceName
	for _, n := range names {
		if slices.Contains(known, n) {
			out = append(out, n)
		}
	}
	return out
}

// Matches says whether quota q covers obj, an object of gr: q limits at
// least one resource counted for gr, and obj is in every scope of q
// (scopes select pods only).
func Matches(q *corev1.ResourceQuota, gr schema.GroupResource, obj runtime.Object) bool {
	if len(MatchingResources(gr, names(q.Status.Hard))) == 0 {
		return false
	}
	for _, sel := range ScopeSelectors(q) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || !PodInScope(pod, sel) {
			return false
		}
	}
	return true
}

// ScopeSelectors returns a quota's scopes and scope selector as selector
// requirements (a scope is an Exists requirement).
func ScopeSelectors(q *corev1.ResourceQuota) []corev1.ScopedResourceSelectorRequirement {
	var out []corev1.ScopedResourceSelectorRequirement
	for _, s := range q.Spec.Scopes {
		out = append(out, corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists})
	}
	if q.Spec.ScopeSelector != nil {
		out = append(out, q.Spec.ScopeSelector.MatchExpressions...)
	}
	return out
}

// PodInScope says whether pod is in the scope sel names.
func PodInScope(pod *corev1.Pod, sel corev1.ScopedResourceSelectorRequirement) bool {
	switch sel.ScopeName {
	case corev1.ResourceQuotaScopeTerminating:
		return terminating(pod)
	case corev1.ResourceQuotaScopeNotTerminating:
		return !terminating(pod)
	case corev1.ResourceQuotaScopeBestEffort:
		return qos.Compute(&pod.Spec) == corev1.PodQOSBestEffort
	case corev1.ResourceQuotaScopeNotBestEffort:
		return qos.Compute(&pod.Spec) != corev1.PodQOSBestEffort
	case corev1.ResourceQuotaScopePriorityClass:
		return priorityMatches(pod.Spec.PriorityClassName, sel)
	case corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return crossNamespaceAffinity(pod)
	}
	return false
}

func terminating(pod *corev1.Pod) bool {
	return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0
}

// priorityMatches applies a PriorityClass requirement as upstream's label
// selector over {PriorityClass: name} does.
func priorityMatches(name string, sel corev1.ScopedResourceSelectorRequirement) bool {
	switch sel.Operator {
	case corev1.ScopeSelectorOpExists:
		return name != ""
	case corev1.ScopeSelectorOpIn:
		return slices.Contains(sel.Values, name)
	case corev1.ScopeSelectorOpNotIn:
		return !slices.Contains(sel.Values, name)
	}
	return false
}

func crossNamespaceAffinity(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	if a == nil {
		return false
	}
	var terms []corev1.PodAffinityTerm
	if pa := a.PodAffinity; pa != nil {
		terms = append(terms, pa.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	if pa := a.PodAntiAffinity; pa != nil {
		terms = append(terms, pa.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	for _, t := range terms {
		if len(t.Namespaces) > 0 || t.NamespaceSelector != nil {
			return true
		}
	}
	return false
}

// Constraints returns upstream's "must specify" error when a quota limits
// cpu or memory and a container of pod does not say its own.
func Constraints(required []corev1.ResourceName, pod *corev1.Pod) error {
	missing := map[corev1.ResourceName][]string{}
	check := func(c *corev1.Container) {
		for _, r := range required {
			if !containerStates(c, r) {
				missing[r] = append(missing[r], c.Name)
			}
		}
	}
	for i := range pod.Spec.Containers {
		check(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.InitContainers {
		check(&pod.Spec.InitContainers[i])
	}
	if len(missing) == 0 {
		return nil
	}
	var msgs []string
	for _, r := range sortedNames(missing) {
		cs := missing[r]
		sort.Strings(cs)
		msgs = append(msgs, fmt.Sprintf("%s for: %s", r, strings.Join(slices.Compact(cs), ",")))
	}
	return fmt.Errorf("must specify %s", strings.Join(msgs, "; "))
}

// containerStates says whether container c states what r needs; true for
// the resources without the requirement (all but cpu and memory).
func containerStates(c *corev1.Container, r corev1.ResourceName) bool {
	switch r {
	case corev1.ResourceCPU, corev1.ResourceRequestsCPU:
		_, ok := c.Resources.Requests[corev1.ResourceCPU]
		return ok
	case corev1.ResourceMemory, corev1.ResourceRequestsMemory:
		_, ok := c.Resources.Requests[corev1.ResourceMemory]
		return ok
	case corev1.ResourceLimitsCPU:
		_, ok := c.Resources.Limits[corev1.ResourceCPU]
		return ok
	case corev1.ResourceLimitsMemory:
		_, ok := c.Resources.Limits[corev1.ResourceMemory]
		return ok
	}
	return true
}

func sortedNames[V any](m map[corev1.ResourceName]V) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func names(l corev1.ResourceList) []corev1.ResourceName {
	return sortedNames(l)
}

// Admit checks a new object of gr against the namespace's quotas, as
// upstream's ResourceQuota admission does on create. It returns the
// quotas whose status.used must grow (copies, with the new usage) or the
// reason it is refused, the text of upstream's Forbidden error.
func Admit(quotas []*corev1.ResourceQuota, gr schema.GroupResource, obj runtime.Object, now time.Time) ([]*corev1.ResourceQuota, error) {
	var interesting []*corev1.ResourceQuota
	for _, q := range quotas {
		if !Matches(q, gr, obj) {
			continue
		}
		restricted := MatchingResources(gr, names(q.Status.Hard))
		if pod, ok := obj.(*corev1.Pod); ok {
			if err := Constraints(restricted, pod); err != nil {
				return nil, fmt.Errorf("failed quota: %s: %v", q.Name, err)
			}
		}
		var unknown []string
		for _, r := range restricted {
			if _, ok := q.Status.Used[r]; !ok {
				unknown = append(unknown, string(r))
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, fmt.Errorf("status unknown for quota: %s, resources: %s", q.Name, strings.Join(unknown, ","))
		}
		interesting = append(interesting, q)
	}
	delta := nonZero(Usage(gr, obj, now))
	if len(delta) == 0 || len(interesting) == 0 {
		return nil, nil
	}
	var out []*corev1.ResourceQuota
	for _, q := range interesting {
		requested := mask(delta, names(q.Status.Hard))
		used := q.Status.Used.DeepCopy()
		add(used, requested)
		var exceeded []corev1.ResourceName
		for _, r := range names(requested) {
			if u := used[r]; u.Cmp(q.Status.Hard[r]) > 0 {
				exceeded = append(exceeded, r)
			}
		}
		if len(exceeded) > 0 {
			return nil, fmt.Errorf("exceeded quota: %s, requested: %s, used: %s, limited: %s", q.Name,
				prettyPrint(mask(requested, exceeded)), prettyPrint(mask(q.Status.Used, exceeded)),
				prettyPrint(mask(q.Status.Hard, exceeded)))
		}
		if len(requested) == 0 {
			continue
		}
		nq := q.DeepCopy()
		nq.Status.Used = used
		out = append(out, nq)
	}
	return out, nil
}

func nonZero(l corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range l {
		if !v.IsZero() {
			out[k] = v
		}
	}
	return out
}

// mask keeps the entries of l named in keep.
func mask(l corev1.ResourceList, keep []corev1.ResourceName) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, k := range keep {
		if v, ok := l[k]; ok {
			out[k] = v.DeepCopy()
		}
	}
	return out
}

// prettyPrint writes name=value pairs in name order, as upstream does.
func prettyPrint(l corev1.ResourceList) string {
	var parts []string
	for _, k := range names(l) {
		v := l[k]
		parts = append(parts, string(k)+"="+v.String())
	}
	return strings.Join(parts, ",")
}

// Used returns what objects (of gr) add up to for the resources of hard
// that quota counts for gr, for the quotas they match; zero for a counted
// resource no object uses.
func Used(q *corev1.ResourceQuota, gr schema.GroupResource, objs []runtime.Object, now time.Time) corev1.ResourceList {
	hard := names(q.Spec.Hard)
	out := corev1.ResourceList{}
	for _, r := range MatchingResources(gr, hard) {
		out[r] = resource.Quantity{Format: resource.DecimalSI}
	}
	if len(out) == 0 {
		return out
	}
	probe := q.DeepCopy()
	probe.Status.Hard = q.Spec.Hard
	for _, o := range objs {
		if !Matches(probe, gr, o) {
			continue
		}
		add(out, mask(Usage(gr, o, now), names(out)))
	}
	return out
}
