package persistentvolume

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func volume(mut func(*corev1.PersistentVolume)) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}}}}
	if mut != nil {
		mut(pv)
	}
	Default(pv)
	return pv
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		pv   *corev1.PersistentVolume
		want string
	}{
		{"ok", volume(nil), ""},
		{"no modes", volume(func(pv *corev1.PersistentVolume) { pv.Spec.AccessModes = nil }), "spec.accessModes: Required value"},
		{"bad mode", volume(func(pv *corev1.PersistentVolume) { pv.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{"X"} }),
			`spec.accessModes: Unsupported value: "X": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"`},
		{"no capacity", volume(func(pv *corev1.PersistentVolume) { pv.Spec.Capacity = nil }),
			`[spec.capacity: Required value, spec.capacity: Unsupported value: null: supported values: "storage"]`},
		{"zero", volume(func(pv *corev1.PersistentVolume) { pv.Spec.Capacity[corev1.ResourceStorage] = resource.MustParse("0") }),
			`spec.capacity[storage]: Invalid value: "0": must be greater than zero`},
		{"no source", volume(func(pv *corev1.PersistentVolume) { pv.Spec.HostPath = nil }), "spec: Required value: must specify a volume type"},
		{"two sources", volume(func(pv *corev1.PersistentVolume) { pv.Spec.Local = &corev1.LocalVolumeSource{Path: "/x"} }),
			"[spec.local: Forbidden: may not specify more than 1 volume type, metadata.annotations: Required value: Local volume requires node affinity]"},
		{"local without affinity", volume(func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath, pv.Spec.Local = nil, &corev1.LocalVolumeSource{Path: "x"}
		}), `[spec.local.path: Invalid value: "x": must be an absolute path, metadata.annotations: Required value: Local volume requires node affinity]`},
		{"backsteps", volume(func(pv *corev1.PersistentVolume) { pv.Spec.HostPath.Path = "/a/../b" }), `spec.hostPath.path: Invalid value: "/a/../b": must not contain '..'`},
		{"affinity", volume(func(pv *corev1.PersistentVolume) {
			pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn}}}}}}
		}), "spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErrs(t, Validate(tc.pv).ToAggregate(), tc.want)
		})
	}
}

func checkErrs(t *testing.T, got error, want string) {
	t.Helper()
	switch {
	case want == "" && got != nil:
		t.Fatalf("got %v", got)
	case want != "" && (got == nil || got.Error() != want):
		t.Fatalf("got %v\nwant %s", got, want)
	}
}

func claim(mut func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if mut != nil {
		mut(c)
	}
	DefaultClaim(c)
	return c
}

func TestValidateClaim(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *corev1.PersistentVolumeClaim
		want string
	}{
		{"ok", claim(nil), ""},
		{"no modes", claim(func(c *corev1.PersistentVolumeClaim) { c.Spec.AccessModes = nil }), "spec.accessModes: Required value: at least 1 access mode is required"},
		{"no storage", claim(func(c *corev1.PersistentVolumeClaim) { c.Spec.Resources.Requests = nil }), "spec.resources[storage]: Required value"},
		{"bad class", claim(func(c *corev1.PersistentVolumeClaim) { s := "A_b"; c.Spec.StorageClassName = &s }),
			`spec.storageClassName: Invalid value: "A_b": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErrs(t, ValidateClaim(tc.c).ToAggregate(), tc.want)
		})
	}
}

func TestValidateClaimUpdate(t *testing.T) {
	old := claim(nil)
	bound := old.DeepCopy()
	bound.Spec.VolumeName = "pv-1"
	checkErrs(t, ValidateClaimUpdate(bound, old).ToAggregate(), "")
	changed := bound.DeepCopy()
	changed.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
	err := ValidateClaimUpdate(changed, bound).ToAggregate()
	if err == nil || !strings.HasPrefix(err.Error(), "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims") {
		t.Fatalf("got %v", err)
	}
}

func TestDefaultStorageClass(t *testing.T) {
	at := func(name string, age time.Duration, def bool) *storagev1.StorageClass {
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Unix(0, 0).Add(-age))}}
		if def {
			sc.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
		}
		return sc
	}
	classes := []*storagev1.StorageClass{at("old", time.Hour, true), at("new", time.Minute, true), at("newest", 0, false)}
	adm := DefaultStorageClass{Classes: func(context.Context) ([]*storagev1.StorageClass, error) { return classes, nil }}
	c := claim(nil)
	if _, err := adm.BeforeCreate(context.Background(), c, false); err != nil || c.Spec.StorageClassName == nil || *c.Spec.StorageClassName != "new" {
		t.Fatalf("class %v, err %v", c.Spec.StorageClassName, err)
	}
	empty := ""
	c = claim(func(c *corev1.PersistentVolumeClaim) { c.Spec.StorageClassName = &empty })
	if _, _ = adm.BeforeCreate(context.Background(), c, false); *c.Spec.StorageClassName != "" {
		t.Fatal("an explicit empty class was replaced")
	}
}

func TestInUseProtection(t *testing.T) {
	c, pv := claim(nil), volume(nil)
	for _, obj := range []runtime.Object{c, pv} {
		_, _ = InUseProtection{}.BeforeCreate(context.Background(), obj, false)
	}
	if len(c.Finalizers) != 1 || c.Finalizers[0] != ClaimProtectionFinalizer || len(pv.Finalizers) != 1 || pv.Finalizers[0] != VolumeProtectionFinalizer {
		t.Fatalf("finalizers %v %v", c.Finalizers, pv.Finalizers)
	}
}
