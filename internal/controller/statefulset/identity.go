package statefulset

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The labels a StatefulSet's pods carry besides its template's.
const (
	PodNameLabel  = appsv1.StatefulSetPodNameLabel
	PodIndexLabel = appsv1.PodIndexLabel
	RevisionLabel = appsv1.ControllerRevisionHashLabelKey
)

// PodName is "<set>-<ordinal>".
func PodName(set *appsv1.StatefulSet, ordinal int) string {
	return fmt.Sprintf("%s-%d", set.Name, ordinal)
}

// Ordinal parses the ordinal of a pod named "<set>-<n>", -1 otherwise.
func Ordinal(set *appsv1.StatefulSet, name string) int {
	rest, ok := strings.CutPrefix(name, set.Name+"-")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || strconv.Itoa(n) != rest {
		return -1
	}
	return n
}

// ClaimName is "<template>-<set>-<ordinal>", the claim a pod's volume of
// the template's name refers to.
func ClaimName(tmpl string, set *appsv1.StatefulSet, ordinal int) string {
	return fmt.Sprintf("%s-%s", tmpl, PodName(set, ordinal))
}

// NewPod is the set's pod of ordinal from template at revision: its
// name, the pod-name, pod-index and revision labels, hostname and
// subdomain (the headless Service), a volume per claim template and a
// controller reference.
func NewPod(set *appsv1.StatefulSet, tpl *corev1.PodTemplateSpec, ordinal int, revision string) *corev1.Pod {
	t := tpl.DeepCopy()
	p := &corev1.Pod{ObjectMeta: t.ObjectMeta, Spec: t.Spec}
	p.Name, p.Namespace, p.GenerateName = PodName(set, ordinal), set.Namespace, ""
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[PodNameLabel] = p.Name
	p.Labels[PodIndexLabel] = strconv.Itoa(ordinal)
	p.Labels[RevisionLabel] = revision
	p.Spec.Hostname, p.Spec.Subdomain = p.Name, set.Spec.ServiceName
	p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(set, appsv1.SchemeGroupVersion.WithKind("StatefulSet"))}
	addClaimVolumes(set, p, ordinal)
	return p
}

// addClaimVolumes points a volume of each claim template's name at the
// pod's claim, replacing a template volume of that name.
func addClaimVolumes(set *appsv1.StatefulSet, p *corev1.Pod, ordinal int) {
	for _, c := range set.Spec.VolumeClaimTemplates {
		v := corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
			ClaimName: ClaimName(c.Name, set, ordinal)}}}
		replaced := false
		for i := range p.Spec.Volumes {
			if p.Spec.Volumes[i].Name == c.Name {
				p.Spec.Volumes[i], replaced = v, true
			}
		}
		if !replaced {
			p.Spec.Volumes = append(p.Spec.Volumes, v)
		}
	}
}

// NewClaim is the claim of template c for ordinal: labelled with the
// set's selector labels.
func NewClaim(set *appsv1.StatefulSet, c *corev1.PersistentVolumeClaim, ordinal int) *corev1.PersistentVolumeClaim {
	claim := c.DeepCopy()
	claim.Name, claim.Namespace = ClaimName(c.Name, set, ordinal), set.Namespace
	claim.Status = corev1.PersistentVolumeClaimStatus{}
	if set.Spec.Selector != nil && len(set.Spec.Selector.MatchLabels) > 0 {
		if claim.Labels == nil {
			claim.Labels = map[string]string{}
		}
		for k, v := range set.Spec.Selector.MatchLabels {
			claim.Labels[k] = v
		}
	}
	return claim
}

// TemplateOf reads the pod template a revision's data holds.
func TemplateOf(rev *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var data struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &data); err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev.Name, err)
	}
	return &data.Spec.Template, nil
}
