package volume

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The protection finalizers (see the apiserver's persistentvolume
// registry, which adds them).
const (
	ClaimProtectionFinalizer  = "kubernetes.io/pvc-protection"
	VolumeProtectionFinalizer = "kubernetes.io/pv-protection"
)

func everything() labels.Selector { return labels.Everything() }

// syncClaim binds one claim, or keeps its phase, or lets it go once
// deleted and unused.
func (c *Controller) syncClaim(ctx context.Context, ns, name string) error {
	claim, err := c.claims.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if claim.DeletionTimestamp != nil {
		return c.releaseClaim(ctx, claim)
	}
	if claim.Spec.VolumeName != "" {
		return c.syncBoundClaim(ctx, claim)
	}
	return c.syncUnboundClaim(ctx, claim)
}

// syncUnboundClaim finds a volume for a claim without one, or asks for
// one to be provisioned.
func (c *Controller) syncUnboundClaim(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	className := ClaimClass(claim)
	class, err := c.classes.Get(className)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if class == nil && className != "" {
		c.cfg.Recorder.Eventf(claim, corev1.EventTypeWarning, "ProvisioningFailed", "storageclass.storage.k8s.io %q not found", className)
		return nil
	}
	node, wait := c.selectedNode(claim, class)
	if wait {
		c.cfg.Recorder.Event(claim, corev1.EventTypeNormal, "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
		return nil
	}
	pvs, err := c.volumes.List(everything())
	if err != nil {
		return err
	}
	if pv := FindMatch(claim, pvs, node); pv != nil {
		return c.bind(ctx, claim, pv)
	}
	if class == nil || class.Provisioner == "" || class.Provisioner == "kubernetes.io/no-provisioner" {
		c.cfg.Recorder.Event(claim, corev1.EventTypeNormal, "FailedBinding", "no persistent volumes available for this claim and no storage class is set")
		return nil
	}
	return c.provision(ctx, claim, class, node)
}

// selectedNode is the node a WaitForFirstConsumer claim was given by the
// scheduler; wait says the claim has none yet.
func (c *Controller) selectedNode(claim *corev1.PersistentVolumeClaim, class *storagev1.StorageClass) (*corev1.Node, bool) {
	name := claim.Annotations[AnnSelectedNode]
	wffc := class != nil && class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
	if name == "" {
		return nil, wffc
	}
	node, err := c.nodes.Get(name)
	if err != nil {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}}}, false
	}
	return node, false
}

// provision marks the claim for its class's provisioner, as upstream's
// PV controller does for external provisioners, and provisions at once
// when the provisioner is local-path.
func (c *Controller) provision(ctx context.Context, claim *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, node *corev1.Node) error {
	if claim.Annotations[AnnStorageProvisioner] != class.Provisioner {
		updated := claim.DeepCopy()
		metav1.SetMetaDataAnnotation(&updated.ObjectMeta, AnnStorageProvisioner, class.Provisioner)
		metav1.SetMetaDataAnnotation(&updated.ObjectMeta, AnnBetaProvisioner, class.Provisioner)
		var err error
		if claim, err = c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return ignoreConflict(err)
		}
	}
	c.cfg.Recorder.Eventf(claim, corev1.EventTypeNormal, "ExternalProvisioning",
		"Waiting for a volume to be created either by the external provisioner '%s' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.", class.Provisioner)
	if class.Provisioner != LocalPathProvisioner {
		return nil
	}
	return c.provisionLocalPath(ctx, claim, class, node)
}

// bind points the volume at the claim and the claim at the volume, then
// marks both Bound.
func (c *Controller) bind(ctx context.Context, claim *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) error {
	pv, err := c.bindVolume(ctx, claim, pv)
	if err != nil {
		return err
	}
	if _, err := c.setVolumePhase(ctx, pv, corev1.VolumeBound, ""); err != nil {
		return err
	}
	updated := claim.DeepCopy()
	updated.Spec.VolumeName = pv.Name
	metav1.SetMetaDataAnnotation(&updated.ObjectMeta, AnnBindCompleted, "yes")
	metav1.SetMetaDataAnnotation(&updated.ObjectMeta, AnnBoundByController, "yes")
	claim, err = c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return ignoreConflict(err)
	}
	return c.setClaimBound(ctx, claim, pv)
}

// bindVolume sets the volume's claimRef to the claim (with its UID).
func (c *Controller) bindVolume(ctx context.Context, claim *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) (*corev1.PersistentVolume, error) {
	ref := pv.Spec.ClaimRef
	if ref != nil && ref.UID == claim.UID {
		return pv, nil
	}
	updated := pv.DeepCopy()
	if ref == nil {
		metav1.SetMetaDataAnnotation(&updated.ObjectMeta, AnnBoundByController, "yes")
	}
	updated.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: claim.Namespace,
		Name: claim.Name, UID: claim.UID, ResourceVersion: claim.ResourceVersion}
	out, err := c.cfg.Client.CoreV1().PersistentVolumes().Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("bind volume %s to claim %s/%s: %w", pv.Name, claim.Namespace, claim.Name, err)
	}
	return out, nil
}

// syncBoundClaim keeps a claim that names its volume: Bound while the
// volume points back, Lost once the volume is gone.
func (c *Controller) syncBoundClaim(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	pv, err := c.volumes.Get(claim.Spec.VolumeName)
	if apierrors.IsNotFound(err) {
		if claim.Annotations[AnnBindCompleted] == "" {
			return nil // pre-bound to a volume not made yet
		}
		return c.setClaimLost(ctx, claim)
	}
	if err != nil {
		return err
	}
	ref := pv.Spec.ClaimRef
	switch {
	case ref == nil || (ref.Namespace == claim.Namespace && ref.Name == claim.Name && (ref.UID == "" || ref.UID == claim.UID)):
		return c.bind(ctx, claim, pv)
	default:
		c.cfg.Recorder.Eventf(claim, corev1.EventTypeWarning, "FailedBinding", "volume %q already bound to a different claim.", pv.Name)
		return nil
	}
}

func (c *Controller) setClaimBound(ctx context.Context, claim *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) error {
	st := claim.Status
	if st.Phase == corev1.ClaimBound && slices.Equal(st.AccessModes, pv.Spec.AccessModes) {
		return nil
	}
	updated := claim.DeepCopy()
	updated.Status.Phase = corev1.ClaimBound
	updated.Status.AccessModes = pv.Spec.AccessModes
	updated.Status.Capacity = pv.Spec.Capacity
	_, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	return ignoreConflict(err)
}

func (c *Controller) setClaimLost(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	if claim.Status.Phase == corev1.ClaimLost {
		return nil
	}
	c.cfg.Recorder.Event(claim, corev1.EventTypeWarning, "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
	updated := claim.DeepCopy()
	updated.Status.Phase = corev1.ClaimLost
	_, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	return ignoreConflict(err)
}

// releaseClaim removes the pvc-protection finalizer of a deleted claim
// once no running pod uses it.
func (c *Controller) releaseClaim(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	if !slices.Contains(claim.Finalizers, ClaimProtectionFinalizer) {
		return nil
	}
	pods, err := c.pods.Pods(claim.Namespace).List(everything())
	if err != nil {
		return err
	}
	if ClaimInUse(claim.Name, pods) {
		return nil
	}
	updated := claim.DeepCopy()
	updated.Finalizers = slices.DeleteFunc(updated.Finalizers, func(f string) bool { return f == ClaimProtectionFinalizer })
	_, err = c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, updated, metav1.UpdateOptions{})
	return ignoreNotFound(ignoreConflict(err))
}

// ClaimInUse says whether a pod that has not finished uses the claim.
func ClaimInUse(claim string, pods []*corev1.Pod) bool {
	for _, p := range pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
				return true
			}
		}
	}
	return false
}

// syncVolume keeps one volume's phase and reclaims it once released.
func (c *Controller) syncVolume(ctx context.Context, name string) error {
	pv, err := c.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pv.DeletionTimestamp != nil {
		return c.releaseVolume(ctx, pv)
	}
	ref := pv.Spec.ClaimRef
	if ref == nil || ref.UID == "" {
		if pv.Status.Phase == corev1.VolumeReleased || pv.Status.Phase == corev1.VolumeFailed {
			return nil
		}
		return c.setPhase(ctx, pv, corev1.VolumeAvailable, "")
	}
	claim, err := c.claims.PersistentVolumeClaims(ref.Namespace).Get(ref.Name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	switch {
	case claim == nil || claim.UID != ref.UID:
		return c.reclaim(ctx, pv)
	case claim.Spec.VolumeName == pv.Name:
		return c.setPhase(ctx, pv, corev1.VolumeBound, "")
	case claim.Spec.VolumeName != "" && pv.Annotations[AnnBoundByController] == "yes":
		return c.unbindVolume(ctx, pv)
	}
	return nil
}

// unbindVolume frees a volume the controller bound to a claim that went
// to another volume.
func (c *Controller) unbindVolume(ctx context.Context, pv *corev1.PersistentVolume) error {
	updated := pv.DeepCopy()
	updated.Spec.ClaimRef = nil
	delete(updated.Annotations, AnnBoundByController)
	out, err := c.cfg.Client.CoreV1().PersistentVolumes().Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return ignoreConflict(err)
	}
	return c.setPhase(ctx, out, corev1.VolumeAvailable, "")
}

// reclaim acts on a volume whose claim is gone, by its reclaim policy.
func (c *Controller) reclaim(ctx context.Context, pv *corev1.PersistentVolume) error {
	if pv.Status.Phase == corev1.VolumeFailed {
		return nil
	}
	pv, err := c.setVolumePhase(ctx, pv, corev1.VolumeReleased, "")
	if err != nil {
		return err
	}
	switch pv.Spec.PersistentVolumeReclaimPolicy {
	case corev1.PersistentVolumeReclaimRetain:
		return nil
	case corev1.PersistentVolumeReclaimDelete:
		if pv.Annotations[AnnProvisionedBy] == LocalPathProvisioner {
			return c.deleteLocalPath(ctx, pv)
		}
		msg := fmt.Sprintf("error getting deleter volume plugin for volume %q: no deletable volume plugin matched", pv.Name)
		c.cfg.Recorder.Event(pv, corev1.EventTypeWarning, "VolumeFailedDelete", msg)
		return c.setPhase(ctx, pv, corev1.VolumeFailed, msg)
	default:
		c.cfg.Recorder.Event(pv, corev1.EventTypeWarning, "VolumeFailedRecycle", "No recycler plugin found for the volume!")
		return c.setPhase(ctx, pv, corev1.VolumeFailed, "No recycler plugin found for the volume!")
	}
}

// setVolumePhase writes the volume's phase (and message) when it
// differs and returns the volume as written (pv itself when nothing was
// written). pv may be the lister's: it is never changed.
func (c *Controller) setVolumePhase(ctx context.Context, pv *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, msg string) (*corev1.PersistentVolume, error) {
	if pv.Status.Phase == phase && pv.Status.Message == msg {
		return pv, nil
	}
	updated := pv.DeepCopy()
	updated.Status.Phase, updated.Status.Message = phase, msg
	if phase == corev1.VolumeFailed {
		updated.Status.Reason = "VolumeFailed"
	}
	out, err := c.cfg.Client.CoreV1().PersistentVolumes().UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return pv, ignoreConflict(err)
	}
	return out, nil
}

// setPhase is setVolumePhase for callers that need only its error.
func (c *Controller) setPhase(ctx context.Context, pv *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, msg string) error {
	_, err := c.setVolumePhase(ctx, pv, phase, msg)
	return err
}

// releaseVolume removes the pv-protection finalizer of a deleted volume
// once no claim is bound to it.
func (c *Controller) releaseVolume(ctx context.Context, pv *corev1.PersistentVolume) error {
	if !slices.Contains(pv.Finalizers, VolumeProtectionFinalizer) || c.volumeInUse(pv) {
		return nil
	}
	updated := pv.DeepCopy()
	updated.Finalizers = slices.DeleteFunc(updated.Finalizers, func(f string) bool { return f == VolumeProtectionFinalizer })
	_, err := c.cfg.Client.CoreV1().PersistentVolumes().Update(ctx, updated, metav1.UpdateOptions{})
	return ignoreNotFound(ignoreConflict(err))
}

// volumeInUse says whether a claim is bound to the volume.
func (c *Controller) volumeInUse(pv *corev1.PersistentVolume) bool {
	ref := pv.Spec.ClaimRef
	if ref == nil || pv.Status.Phase != corev1.VolumeBound {
		return false
	}
	claim, err := c.claims.PersistentVolumeClaims(ref.Namespace).Get(ref.Name)
	return err == nil && claim.UID == ref.UID && claim.Spec.VolumeName == pv.Name
}

// ignoreConflict drops a conflict: the newer object comes back through
// the informer and is synced again.
func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
