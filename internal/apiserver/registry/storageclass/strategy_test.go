package storageclass

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValidate(t *testing.T) {
	bad := storagev1.VolumeBindingMode("Later")
	recycle := corev1.PersistentVolumeReclaimRecycle
	for _, tc := range []struct {
		name string
		sc   storagev1.StorageClass
		want string
	}{
		{"ok", storagev1.StorageClass{Provisioner: "rancher.io/local-path"}, ""},
		{"no provisioner", storagev1.StorageClass{}, "provisioner: Required value"},
		{"bad provisioner", storagev1.StorageClass{Provisioner: "a b"}, `provisioner: Invalid value: "a b": name part must consist of alphanumeric characters`},
		{"recycle", storagev1.StorageClass{Provisioner: "x", ReclaimPolicy: &recycle}, `reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"`},
		{"mode", storagev1.StorageClass{Provisioner: "x", VolumeBindingMode: &bad}, `volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := tc.sc
			if sc.VolumeBindingMode == nil || *sc.VolumeBindingMode != bad {
				Default(&sc)
			}
			got := Validate(context.Background(), &sc).ToAggregate()
			switch {
			case tc.want == "" && got != nil:
				t.Fatalf("got %v", got)
			case tc.want != "" && (got == nil || !strings.Contains(got.Error(), tc.want)):
				t.Fatalf("got %v, want %q", got, tc.want)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := &storagev1.StorageClass{Provisioner: "a"}
	Default(old)
	sc := old.DeepCopy()
	sc.Provisioner, sc.Parameters = "b", map[string]string{"k": "v"}
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	sc.VolumeBindingMode = &wffc
	got := ValidateUpdate(context.Background(), sc, old).ToAggregate().Error()
	for _, want := range []string{"parameters: Forbidden: updates to parameters are forbidden.",
		"provisioner: Forbidden: updates to provisioner are forbidden.", "volumeBindingMode: Invalid value: \"WaitForFirstConsumer\": field is immutable"} {
		if !strings.Contains(got, want) {
			t.Errorf("got %s\nwant %s", got, want)
		}
	}
}

func TestIsDefault(t *testing.T) {
	if !IsDefault(metav1.ObjectMeta{Annotations: map[string]string{BetaDefaultAnnotation: "true"}}) || IsDefault(metav1.ObjectMeta{}) {
		t.Fatal("IsDefault")
	}
}
