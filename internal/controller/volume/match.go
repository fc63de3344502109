package volume

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Annotations of the binding protocol, as upstream's PV controller and
// external provisioners write them.
const (
	AnnBindCompleted      = "pv.kubernetes.io/bind-completed"
	AnnBoundByController  = "pv.kubernetes.io/bound-by-controller"
	AnnProvisionedBy      = "pv.kubernetes.io/provisioned-by"
	AnnStorageProvisioner = "volume.kubernetes.io/storage-provisioner"
	AnnBetaProvisioner    = "volume.beta.kubernetes.io/storage-provisioner"
	AnnSelectedNode       = "volume.kubernetes.io/selected-node"
	annBetaClass          = "volume.beta.kubernetes.io/storage-class"
)

// ClaimClass is the claim's class: the beta annotation, else
// spec.storageClassName, else "".
func ClaimClass(c *corev1.PersistentVolumeClaim) string {
	if name, ok := c.Annotations[annBetaClass]; ok {
		return name
	}
	if c.Spec.StorageClassName != nil {
		return *c.Spec.StorageClassName
	}
	return ""
}

// VolumeClass is the volume's class, the beta annotation first.
func VolumeClass(pv *corev1.PersistentVolume) string {
	if name, ok := pv.Annotations[annBetaClass]; ok {
		return name
	}
	return pv.Spec.StorageClassName
}

// FindMatch returns the smallest volume that can take the claim: one not
// bound elsewhere (or pre-bound to this claim, which wins), of the
// claim's class and volume mode, with the claim's access modes, at least
// its request, matching its selector and, when node is set, usable on
// that node. Nil when none fits.
func FindMatch(claim *corev1.PersistentVolumeClaim, volumes []*corev1.PersistentVolume, node *corev1.Node) *corev1.PersistentVolume {
	var best *corev1.PersistentVolume
	for _, pv := range volumes {
		if !Fits(claim, pv, node) {
			continue
		}
		if ref := pv.Spec.ClaimRef; ref != nil && ref.Name == claim.Name && ref.Namespace == claim.Namespace {
			return pv
		}
		if best == nil || capacity(pv).Cmp(*capacity(best)) < 0 {
			best = pv
		}
	}
	return best
}

// Fits says whether pv can be bound to claim (on node, when set).
func Fits(claim *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume, node *corev1.Node) bool {
	if pv.DeletionTimestamp != nil || !available(claim, pv) || VolumeClass(pv) != ClaimClass(claim) ||
		mode(pv.Spec.VolumeMode) != mode(claim.Spec.VolumeMode) {
		return false
	}
	for _, m := range claim.Spec.AccessModes {
		if !slices.Contains(pv.Spec.AccessModes, m) {
			return false
		}
	}
	want := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	if capacity(pv).Cmp(want) < 0 || !selects(claim.Spec.Selector, pv.Labels) {
		return false
	}
	return node == nil || NodeAllowed(pv, node)
}

// available: no claim, or pre-bound to this one (by name, and UID when
// set).
func available(claim *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) bool {
	ref := pv.Spec.ClaimRef
	if ref == nil {
		return pv.Status.Phase != corev1.VolumeReleased && pv.Status.Phase != corev1.VolumeFailed
	}
	return ref.Name == claim.Name && ref.Namespace == claim.Namespace && (ref.UID == "" || ref.UID == claim.UID)
}

func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	if sel == nil {
		return true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(set))
}

func capacity(pv *corev1.PersistentVolume) *resource.Quantity {
	q := pv.Spec.Capacity[corev1.ResourceStorage]
	return &q
}

func mode(m *corev1.PersistentVolumeMode) corev1.PersistentVolumeMode {
	if m == nil {
		return corev1.PersistentVolumeFilesystem
	}
	return *m
}

// NodeAllowed says whether the volume's node affinity admits node (a
// volume without one is usable everywhere).
func NodeAllowed(pv *corev1.PersistentVolume, node *corev1.Node) bool {
	na := pv.Spec.NodeAffinity
	if na == nil || na.Required == nil {
		return true
	}
	for _, term := range na.Required.NodeSelectorTerms {
		if termMatches(term, node) {
			return true
		}
	}
	return false
}

func termMatches(term corev1.NodeSelectorTerm, node *corev1.Node) bool {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return false
	}
	for _, e := range term.MatchExpressions {
		if !requirementMatches(e, node.Labels[e.Key], hasKey(node.Labels, e.Key)) {
			return false
		}
	}
	for _, e := range term.MatchFields {
		if e.Key != "metadata.name" || !requirementMatches(e, node.Name, true) {
			return false
		}
	}
	return true
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

func requirementMatches(e corev1.NodeSelectorRequirement, value string, present bool) bool {
	switch e.Operator {
	case corev1.NodeSelectorOpIn:
		return present && slices.Contains(e.Values, value)
	case corev1.NodeSelectorOpNotIn:
		return !present || !slices.Contains(e.Values, value)
	case corev1.NodeSelectorOpExists:
		return present
	case corev1.NodeSelectorOpDoesNotExist:
		return !present
	}
	return false
}
