package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Failure texts of upstream's PodTopologySpread and InterPodAffinity
// plugins.
const (
	reasonSpread             = "node(s) didn't match pod topology spread constraints"
	reasonSpreadLabel        = reasonSpread + " (missing required label)"
	reasonPodAffinity        = "node(s) didn't match pod affinity rules"
	reasonPodAntiAffinity    = "node(s) didn't match pod anti-affinity rules"
	reasonExistingAntiAffine = "node(s) didn't satisfy existing pods anti-affinity rules"
)

// cluster is what the filters that look past one node need: every node
// with its pods, and the pods that carry required anti-affinity terms
// (few, usually none: found once per scheduling decision).
type cluster struct {
	nodes []NodeInfo
	anti  []placedPod
	// volumes are the pod's claims and volumes (VolumeBinding's filter).
	volumes PodVolumes
}

// placedPod is a pod and the node it is on.
type placedPod struct {
	pod  *corev1.Pod
	node NodeInfo
}

func newCluster(nodes []NodeInfo) cluster {
	c := cluster{nodes: nodes}
	for _, n := range nodes {
		for _, p := range n.PodList {
			if len(antiAffinityTerms(p)) > 0 {
				c.anti = append(c.anti, placedPod{p, n})
			}
		}
	}
	return c
}

// fitSpread is PodTopologySpread's filter for the pod's DoNotSchedule
// constraints: placing the pod on n may not raise its domain's count of
// matching pods more than maxSkew above the least populated domain among
// the nodes the pod could otherwise go to.
func (c cluster) fitSpread(pod *corev1.Pod, n NodeInfo) *Failure {
	for _, tsc := range pod.Spec.TopologySpreadConstraints {
		if tsc.WhenUnsatisfiable != corev1.DoNotSchedule {
			continue
		}
		domain, ok := n.Node.Labels[tsc.TopologyKey]
		if !ok {
			return &Failure{Reason: reasonSpreadLabel}
		}
		sel, err := spreadSelector(pod, tsc)
		if err != nil {
			return &Failure{Reason: reasonSpread}
		}
		counts := c.domainCounts(pod, tsc.TopologyKey, sel)
		least := minCount(counts, tsc.MinDomains)
		self := 0
		if sel.Matches(labels.Set(pod.Labels)) {
			self = 1
		}
		if counts[domain]+self-least > int(tsc.MaxSkew) {
			return &Failure{Reason: reasonSpread, Resolvable: true}
		}
	}
	return nil
}

// spreadSelector is the constraint's selector with matchLabelKeys' values
// taken from the pod, as upstream merges them.
func spreadSelector(pod *corev1.Pod, tsc corev1.TopologySpreadConstraint) (labels.Selector, error) {
	ls := tsc.LabelSelector.DeepCopy()
	if ls == nil {
		ls = &metav1.LabelSelector{}
	}
	for _, k := range tsc.MatchLabelKeys {
		if v, ok := pod.Labels[k]; ok {
			ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpIn, Values: []string{v}})
		}
	}
	if tsc.LabelSelector == nil && len(ls.MatchExpressions) == 0 {
		return labels.Nothing(), nil
	}
	return metav1.LabelSelectorAsSelector(ls)
}

// domainCounts counts the pods of pod's namespace matching sel in each
// domain of key, over the nodes that have the key and that pass the pod's
// node selector and affinity (upstream's nodeAffinityPolicy Honor).
func (c cluster) domainCounts(pod *corev1.Pod, key string, sel labels.Selector) map[string]int {
	counts := map[string]int{}
	for _, n := range c.nodes {
		domain, ok := n.Node.Labels[key]
		if !ok || fitAffinity(pod, n) != nil {
			continue
		}
		counts[domain] += 0
		for _, p := range n.PodList {
			if p.Namespace == pod.Namespace && p.DeletionTimestamp == nil && sel.Matches(labels.Set(p.Labels)) {
				counts[domain]++
			}
		}
	}
	return counts
}

// minCount is the least count over the domains, or 0 when fewer domains
// than minDomains exist.
func minCount(counts map[string]int, minDomains *int32) int {
	if minDomains != nil && len(counts) < int(*minDomains) {
		return 0
	}
	least, first := 0, true
	for _, v := range counts {
		if first || v < least {
			least, first = v, false
		}
	}
	return least
}

// fitInterPod is InterPodAffinity's filter: the existing pods' required
// anti-affinity, then the pod's required affinity and anti-affinity.
func (c cluster) fitInterPod(pod *corev1.Pod, n NodeInfo) *Failure {
	for _, e := range c.anti {
		for _, term := range antiAffinityTerms(e.pod) {
			if sameDomain(n, e.node, term.TopologyKey) && termSelects(term, e.pod, pod) {
				return &Failure{Reason: reasonExistingAntiAffine, Resolvable: true}
			}
		}
	}
	a := pod.Spec.Affinity
	if a != nil && a.PodAffinity != nil {
		for _, term := range a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if !c.anyInDomain(n, term, pod) && !(podTermMatches(term, pod, pod) && !c.anyAnywhere(term, pod)) {
				return &Failure{Reason: reasonPodAffinity}
			}
		}
	}
	for _, term := range antiAffinityTerms(pod) {
		if c.anyInDomain(n, term, pod) {
			return &Failure{Reason: reasonPodAntiAffinity, Resolvable: true}
		}
	}
	return nil
}

func antiAffinityTerms(p *corev1.Pod) []corev1.PodAffinityTerm {
	if p.Spec.Affinity == nil || p.Spec.Affinity.PodAntiAffinity == nil {
		return nil
	}
	return p.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
}

// anyInDomain says whether a pod the term (of owner) selects runs in n's
// domain of the term's topology key.
func (c cluster) anyInDomain(n NodeInfo, term corev1.PodAffinityTerm, owner *corev1.Pod) bool {
	for _, other := range c.nodes {
		if !sameDomain(n, other, term.TopologyKey) {
			continue
		}
		for _, p := range other.PodList {
			if termSelects(term, owner, p) {
				return true
			}
		}
	}
	return false
}

// anyAnywhere says whether the term selects any pod at all: a pod whose
// affinity selects itself may go first, as upstream allows.
func (c cluster) anyAnywhere(term corev1.PodAffinityTerm, owner *corev1.Pod) bool {
	for _, other := range c.nodes {
		for _, p := range other.PodList {
			if termSelects(term, owner, p) {
				return true
			}
		}
	}
	return false
}

// sameDomain says whether nodes a and b share a value of key.
func sameDomain(a, b NodeInfo, key string) bool {
	va, ok := a.Node.Labels[key]
	if !ok {
		return false
	}
	vb, ok := b.Node.Labels[key]
	return ok && va == vb
}

// termSelects says whether the affinity term of owner selects pod p: p is
// in the term's namespaces (owner's own when none are listed; a
// namespaceSelector is taken as selecting all) and its labels match.
func termSelects(term corev1.PodAffinityTerm, owner, p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.UID == owner.UID && p.Name == owner.Name && p.Namespace == owner.Namespace {
		return false
	}
	return podTermMatches(term, owner, p)
}

// podTermMatches is termSelects without leaving out owner itself.
func podTermMatches(term corev1.PodAffinityTerm, owner, p *corev1.Pod) bool {
	switch {
	case len(term.Namespaces) > 0:
		found := false
		for _, ns := range term.Namespaces {
			found = found || ns == p.Namespace
		}
		if !found && term.NamespaceSelector == nil {
			return false
		}
	case term.NamespaceSelector == nil && p.Namespace != owner.Namespace:
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil || term.LabelSelector == nil {
		return false
	}
	return sel.Matches(labels.Set(p.Labels))
}
