package scheduler

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/svcplane/svcplane/internal/controller/volume"
)

// VolumeBinding's filter texts.
const (
	reasonVolumeAffinity = "node(s) had volume node affinity conflict"
	reasonNoVolumes      = "node(s) didn't find available persistent volumes to bind"
)

// PodVolumes are a pod's claims as VolumeBinding sees them: the volumes
// of its bound claims, and its unbound WaitForFirstConsumer claims with
// what could bind them.
type PodVolumes struct {
	Bound   []*corev1.PersistentVolume
	Delayed []DelayedClaim
}

// DelayedClaim is an unbound claim whose class waits for the first
// consumer: a node suits it when one of Candidates fits there, or when
// the class can provision.
type DelayedClaim struct {
	Claim        *corev1.PersistentVolumeClaim
	Candidates   []*corev1.PersistentVolume
	Provisioning bool
}

// fitVolumes is VolumeBinding's filter.
func (c cluster) fitVolumes(_ *corev1.Pod, n NodeInfo) *Failure {
	for _, pv := range c.volumes.Bound {
		if !volume.NodeAllowed(pv, n.Node) {
			return &Failure{Reason: reasonVolumeAffinity}
		}
	}
	for _, d := range c.volumes.Delayed {
		if !d.Provisioning && volume.FindMatch(d.Claim, d.Candidates, n.Node) == nil {
			return &Failure{Reason: reasonNoVolumes}
		}
	}
	return nil
}

// unschedulableError is a reason the pod cannot be scheduled on any node
// (VolumeBinding's PreFilter), worded as upstream's.
type unschedulableError string

func (e unschedulableError) Error() string { return string(e) }

// podVolumes reads the pod's claims; an error is a claim that keeps the
// pod off every node for now.
func (c *Controller) podVolumes(pod *corev1.Pod) (PodVolumes, error) {
	var out PodVolumes
	if c.claims == nil {
		return out, nil
	}
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		name := v.PersistentVolumeClaim.ClaimName
		claim, err := c.claims.PersistentVolumeClaims(pod.Namespace).Get(name)
		switch {
		case apierrors.IsNotFound(err):
			return out, unschedulableError(fmt.Sprintf("persistentvolumeclaim %q not found", name))
		case err != nil:
			return out, err
		case claim.DeletionTimestamp != nil:
			return out, unschedulableError(fmt.Sprintf("persistentvolumeclaim %q is being deleted", name))
		}
		if err := c.addClaim(&out, claim); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (c *Controller) addClaim(out *PodVolumes, claim *corev1.PersistentVolumeClaim) error {
	if claim.Spec.VolumeName != "" {
		pv, err := c.volumes.Get(claim.Spec.VolumeName)
		if err != nil {
			return unschedulableError("pvc(s) bound to non-existent pv(s)")
		}
		out.Bound = append(out.Bound, pv)
		return nil
	}
	class, err := c.classes.Get(volume.ClaimClass(claim))
	if err != nil || class.VolumeBindingMode == nil || *class.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer {
		return unschedulableError("pod has unbound immediate PersistentVolumeClaims")
	}
	pvs, err := c.volumes.List(labels.Everything())
	if err != nil {
		return err
	}
	out.Delayed = append(out.Delayed, DelayedClaim{Claim: claim, Candidates: pvs,
		Provisioning: class.Provisioner != "" && class.Provisioner != "kubernetes.io/no-provisioner"})
	return nil
}

// selectNode gives the pod's delayed claims the chosen node (the
// selected-node annotation the PV controller and provisioners wait for);
// the pod is bound once they are.
func (c *Controller) selectNode(ctx context.Context, vols PodVolumes, node string) error {
	for _, d := range vols.Delayed {
		if d.Claim.Annotations[volume.AnnSelectedNode] != "" {
			continue
		}
		updated := d.Claim.DeepCopy()
		metav1.SetMetaDataAnnotation(&updated.ObjectMeta, volume.AnnSelectedNode, node)
		_, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(updated.Namespace).Update(ctx, updated, metav1.UpdateOptions{})
		if err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("select node %s for claim %s/%s: %w", node, updated.Namespace, updated.Name, err)
		}
	}
	return nil
}
