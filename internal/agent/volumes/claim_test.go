package volumes

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type fakeClaims struct {
	claims map[string]*corev1.PersistentVolumeClaim
	pvs    map[string]*corev1.PersistentVolume
}

func (f fakeClaims) PersistentVolumeClaim(_ context.Context, _, name string) (*corev1.PersistentVolumeClaim, error) {
	if c, ok := f.claims[name]; ok {
		return c, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("persistentvolumeclaims"), name)
}

func (f fakeClaims) PersistentVolume(_ context.Context, name string) (*corev1.PersistentVolume, error) {
	if pv, ok := f.pvs[name]; ok {
		return pv, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("persistentvolumes"), name)
}

func TestClaimVolume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "storage", "pvc-1_ns_www-web-0")
	dirType := corev1.HostPathDirectoryOrCreate
	claims := fakeClaims{
		claims: map[string]*corev1.PersistentVolumeClaim{
			"www-web-0": {Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pvc-1"}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}},
			"pending":   {Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}},
		},
		pvs: map[string]*corev1.PersistentVolume{"pvc-1": {ObjectMeta: metav1.ObjectMeta{Name: "pvc-1"}, Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &dirType}}}}},
	}
	m := New(Config{Root: t.TempDir(), Claims: claims})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", UID: "u"}}
	for _, tc := range []struct{ claim, want string }{
		{"www-web-0", ""}, {"pending", "PVC ns/pending is not bound"}, {"gone", `persistentvolumeclaim "gone" not found`},
	} {
		pod.Spec.Volumes = []corev1.Volume{{Name: "www", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: tc.claim}}}}
		vols, err := m.Setup(context.Background(), pod)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: got %v, want %q", tc.claim, err, tc.want)
			}
			continue
		}
		if err != nil || vols["www"].Path != dir {
			t.Fatalf("%s: %v %v", tc.claim, vols, err)
		}
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o777 {
			t.Errorf("directory %v %v", st, err)
		}
	}
}
