package daemonset

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	schedhelpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"

	dsregistry "github.com/svcplane/svcplane/internal/apiserver/registry/daemonset"
)

// The labels a DaemonSet's pods carry besides its template's.
const (
	RevisionHashLabel       = appsv1.ControllerRevisionHashLabelKey
	TemplateGenerationLabel = "pod-template-generation"
)

// DefaultTolerations are the tolerations every DaemonSet pod gets, as
// upstream's AddOrUpdateDaemonPodTolerations gives them: running through
// not-ready and unreachable, memory, disk and pid pressure and
// unschedulable nodes, and a missing network for host-network pods.
func DefaultTolerations(hostNetwork bool) []corev1.Toleration {
	exists := func(key string, effect corev1.TaintEffect) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect}
	}
	out := []corev1.Toleration{
		exists(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute),
		exists(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute),
		exists(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule),
		exists(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule),
		exists(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule),
		exists(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule),
	}
	if hostNetwork {
		out = append(out, exists(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule))
	}
	return out
}

// addTolerations appends the tolerations spec does not hold yet.
func addTolerations(spec *corev1.PodSpec, add []corev1.Toleration) {
	for _, t := range add {
		have := false
		for _, e := range spec.Tolerations {
			if apiequality.Semantic.DeepEqual(e, t) {
				have = true
				break
			}
		}
		if !have {
			spec.Tolerations = append(spec.Tolerations, t)
		}
	}
}

// NodeShouldRun says whether ds should run a pod on node (run) and
// whether a pod already there may stay (keep): the template's nodeName
// and required node affinity (nodeSelector included) must match, and
// every NoSchedule and NoExecute taint be tolerated, the tolerations
// including the defaults; a pod stays when only NoSchedule taints are
// not tolerated.
func NodeShouldRun(ds *appsv1.DaemonSet, node *corev1.Node) (run, keep bool) {
	pod := simulatedPod(ds, node.Name)
	if pod.Spec.NodeName != "" && pod.Spec.NodeName != node.Name {
		return false, false
	}
	if ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err != nil || !ok {
		return false, false
	}
	noSchedule := func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	}
	if _, untolerated := schedhelpers.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints, pod.Spec.Tolerations, noSchedule, false); !untolerated {
		return true, true
	}
	noExecute := func(t *corev1.Taint) bool { return t.Effect == corev1.TaintEffectNoExecute }
	_, untolerated := schedhelpers.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints, pod.Spec.Tolerations, noExecute, false)
	return false, !untolerated
}

func simulatedPod(ds *appsv1.DaemonSet, node string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: *ds.Spec.Template.ObjectMeta.DeepCopy(), Spec: *ds.Spec.Template.Spec.DeepCopy()}
	p.Namespace = ds.Namespace
	addTolerations(&p.Spec, DefaultTolerations(p.Spec.HostNetwork))
	return p
}

// NewPod is ds's pod for node at the revision hash: the template with
// the revision and template generation labels, the default tolerations,
// the required node affinity replaced by the node's name (the scheduler
// binds it), a controller reference and the name prefix "<ds>-".
func NewPod(ds *appsv1.DaemonSet, node, hash string) *corev1.Pod {
	p := simulatedPod(ds, node)
	p.Name = ""
	p.GenerateName = ds.Name + "-"
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[RevisionHashLabel] = hash
	p.Labels[TemplateGenerationLabel] = strconv.FormatInt(dsregistry.TemplateGeneration(ds), 10)
	p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(ds, appsv1.SchemeGroupVersion.WithKind("DaemonSet"))}
	p.Spec.Affinity = nodeNameAffinity(p.Spec.Affinity, node)
	return p
}

// nodeNameAffinity replaces the required node affinity terms with one
// matching the node's name, keeping the preferred terms and other
// affinities.
func nodeNameAffinity(a *corev1.Affinity, node string) *corev1.Affinity {
	if a == nil {
		a = &corev1.Affinity{}
	}
	if a.NodeAffinity == nil {
		a.NodeAffinity = &corev1.NodeAffinity{}
	}
	a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{
			Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
		}}}},
	}
	return a
}

// PodNode is the node a pod is on, or, not yet bound, the node its
// required affinity names.
func PodNode(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == metav1.ObjectNameField && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}
