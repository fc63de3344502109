// Package persistentvolume holds the write rules of core/v1
// PersistentVolumes and PersistentVolumeClaims: upstream's defaults,
// validation with upstream's texts and field paths, their status
// subresources (a volume's lastPhaseTransitionTime follows its phase), and
// the admission upstream runs on them: DefaultStorageClass and
// StorageObjectInUseProtection (see admission.go).
package persistentvolume

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Strategy returns the PersistentVolume strategy the REST layer uses;
// now is the clock of lastPhaseTransitionTime (nil: time.Now).
func Strategy(now func() metav1.Time) registry.Strategy {
	if now == nil {
		now = metav1.Now
	}
	return registry.Typed[*corev1.PersistentVolume]{
		DefaultFunc: Default,
		PrepareForCreateFunc: func(_ context.Context, pv *corev1.PersistentVolume) {
			t := now()
			pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending, LastPhaseTransitionTime: &t}
		},
		PrepareForUpdateFunc: func(_ context.Context, pv, old *corev1.PersistentVolume) { pv.Status = old.Status },
		PrepareForStatusUpdateFunc: func(_ context.Context, pv, old *corev1.PersistentVolume) {
			pv.Spec = old.Spec
			if pv.Status.Phase != old.Status.Phase && equalTimes(pv.Status.LastPhaseTransitionTime, old.Status.LastPhaseTransitionTime) {
				t := now()
				pv.Status.LastPhaseTransitionTime = &t
			}
		},
		ValidateFunc: func(_ context.Context, pv *corev1.PersistentVolume) field.ErrorList { return Validate(pv) },
		ValidateUpdateFunc: func(_ context.Context, pv, old *corev1.PersistentVolume) field.ErrorList {
			return ValidateUpdate(pv, old)
		},
		ValidateStatusUpdateFunc: func(_ context.Context, pv, _ *corev1.PersistentVolume) field.ErrorList { return nil },
	}
}

func equalTimes(a, b *metav1.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}

// ClaimStrategy returns the PersistentVolumeClaim strategy.
func ClaimStrategy() registry.Strategy {
	return registry.Typed[*corev1.PersistentVolumeClaim]{
		DefaultFunc: DefaultClaim,
		PrepareForCreateFunc: func(_ context.Context, c *corev1.PersistentVolumeClaim) {
			c.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
		},
		PrepareForUpdateFunc:       func(_ context.Context, c, old *corev1.PersistentVolumeClaim) { c.Status = old.Status },
		PrepareForStatusUpdateFunc: func(_ context.Context, c, old *corev1.PersistentVolumeClaim) { c.Spec = old.Spec },
		ValidateFunc: func(_ context.Context, c *corev1.PersistentVolumeClaim) field.ErrorList {
			return ValidateClaim(c)
		},
		ValidateUpdateFunc: func(_ context.Context, c, old *corev1.PersistentVolumeClaim) field.ErrorList {
			return ValidateClaimUpdate(c, old)
		},
		ValidateStatusUpdateFunc: func(_ context.Context, c, _ *corev1.PersistentVolumeClaim) field.ErrorList {
			return validateClaimStatus(c)
		},
	}
}

// Default applies core/v1's volume defaults: phase Pending, reclaim
// policy Retain, Filesystem mode, an unset hostPath type.
func Default(pv *corev1.PersistentVolume) {
	if pv.Status.Phase == "" {
		pv.Status.Phase = corev1.VolumePending
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		fs := corev1.PersistentVolumeFilesystem
		pv.Spec.VolumeMode = &fs
	}
	if hp := pv.Spec.HostPath; hp != nil && hp.Type == nil {
		unset := corev1.HostPathUnset
		hp.Type = &unset
	}
}

// DefaultClaim applies core/v1's claim defaults: phase Pending,
// Filesystem mode.
func DefaultClaim(c *corev1.PersistentVolumeClaim) {
	if c.Status.Phase == "" {
		c.Status.Phase = corev1.ClaimPending
	}
	if c.Spec.VolumeMode == nil {
		fs := corev1.PersistentVolumeFilesystem
		c.Spec.VolumeMode = &fs
	}
}

// ValidateName is upstream's ValidatePersistentVolumeName (claims use it
// too): a name that is a valid path segment.
func ValidateName(name string, _ bool) []string {
	var msgs []string
	for _, bad := range []string{".", ".."} {
		if name == bad {
			msgs = append(msgs, "may not be '"+bad+"'")
		}
	}
	for _, bad := range []string{"/", "%"} {
		if strings.Contains(name, bad) {
			msgs = append(msgs, "may not contain '"+bad+"'")
		}
	}
	return msgs
}
