package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestStorageRows(t *testing.T) {
	fs := corev1.PersistentVolumeFilesystem
	pv := &corev1.PersistentVolume{ObjectMeta: objMeta("pvc-1", time.Hour), Spec: corev1.PersistentVolumeSpec{
		Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadWriteOnce, corev1.ReadWriteOnce},
		ClaimRef:    &corev1.ObjectReference{Namespace: "default", Name: "www-web-0"}, PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
		StorageClassName: "local-path", VolumeMode: &fs}, Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound}}
	testRows(t, schema.GroupResource{Resource: "persistentvolumes"}, []rowCase{
		{"bound", pv, "pvc-1 | 1Gi | RWO,RWOP | Delete | Bound | default/www-web-0 | local-path | <unset> |  | 60m | Filesystem"},
	})
	class := "local-path"
	bound := &corev1.PersistentVolumeClaim{ObjectMeta: objMeta("www-web-0", time.Hour), Spec: corev1.PersistentVolumeClaimSpec{
		VolumeName: "pvc-1", StorageClassName: &class, VolumeMode: &fs},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: pv.Spec.AccessModes[1:2], Capacity: pv.Spec.Capacity}}
	pending := &corev1.PersistentVolumeClaim{ObjectMeta: objMeta("data", time.Hour), Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}
	testRows(t, schema.GroupResource{Resource: "persistentvolumeclaims"}, []rowCase{
		{"bound", bound, "www-web-0 | Bound | pvc-1 | 1Gi | RWO | local-path | <unset> | 60m | Filesystem"},
		{"pending", pending, "data | Pending |  |  |  |  | <unset> | 60m | <unset>"},
	})
	wffc, retain := storagev1.VolumeBindingWaitForFirstConsumer, corev1.PersistentVolumeReclaimRetain
	def := &storagev1.StorageClass{ObjectMeta: objMeta("local-path", time.Hour), Provisioner: "rancher.io/local-path", VolumeBindingMode: &wffc}
	def.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	testRows(t, schema.GroupResource{Group: "storage.k8s.io", Resource: "storageclasses"}, []rowCase{
		{"default", def, "local-path (default) | rancher.io/local-path | Delete | WaitForFirstConsumer | false | 60m"},
		{"retain", &storagev1.StorageClass{ObjectMeta: objMeta("slow", time.Hour), Provisioner: "x", ReclaimPolicy: &retain},
			"slow | x | Retain | Immediate | false | 60m"},
	})
}
