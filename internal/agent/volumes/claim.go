package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
)

// Claims reads a pod's PersistentVolumeClaims and their volumes.
type Claims interface {
	PersistentVolumeClaim(ctx context.Context, namespace, name string) (*corev1.PersistentVolumeClaim, error)
	PersistentVolume(ctx context.Context, name string) (*corev1.PersistentVolume, error)
}

// claim resolves a persistentVolumeClaim volume to its bound volume's
// directory on the node: a hostPath volume (made, world-writable, when
// its type is DirectoryOrCreate, as the local-path provisioner's
// directories are) or a local one, bound into the containers as they
// are.
func (m *Manager) claim(ctx context.Context, ns string, src *corev1.PersistentVolumeClaimVolumeSource) (Volume, error) {
	if m.cfg.Claims == nil {
		return Volume{}, errors.New("persistentVolumeClaim volumes are not supported here")
	}
	claim, err := m.cfg.Claims.PersistentVolumeClaim(ctx, ns, src.ClaimName)
	if err != nil {
		return Volume{}, notFoundAs(err, "persistentvolumeclaim", src.ClaimName)
	}
	if claim.Spec.VolumeName == "" || claim.Status.Phase != corev1.ClaimBound {
		return Volume{}, fmt.Errorf("PVC %s/%s is not bound", ns, src.ClaimName)
	}
	pv, err := m.cfg.Claims.PersistentVolume(ctx, claim.Spec.VolumeName)
	if err != nil {
		return Volume{}, notFoundAs(err, "persistentvolume", claim.Spec.VolumeName)
	}
	path, err := volumePath(pv)
	if err != nil {
		return Volume{}, err
	}
	return Volume{Path: path, ReadOnly: src.ReadOnly}, nil
}

// volumePath is the node directory of a hostPath or local volume.
func volumePath(pv *corev1.PersistentVolume) (string, error) {
	switch {
	case pv.Spec.HostPath != nil:
		hp := pv.Spec.HostPath
		if hp.Type != nil && *hp.Type == corev1.HostPathDirectoryOrCreate {
			return hp.Path, makeShared(hp.Path)
		}
		return hp.Path, CheckHostPath(hp.Path, hp.Type)
	case pv.Spec.Local != nil:
		dir := corev1.HostPathDirectory
		return pv.Spec.Local.Path, CheckHostPath(pv.Spec.Local.Path, &dir)
	}
	return "", fmt.Errorf("volume %s: svcplane's agent mounts hostPath and local persistent volumes only", pv.Name)
}

// makeShared makes a missing directory 0777, as local-path's helper does.
func makeShared(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return CheckHostPath(dir, ptrTo(corev1.HostPathDirectory))
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	return os.Chmod(dir, 0o777)
}

func ptrTo[T any](v T) *T { return &v }
