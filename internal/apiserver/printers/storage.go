package printers

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The printers of PersistentVolumes, PersistentVolumeClaims and
// StorageClasses, as kube-apiserver's.

const betaClassAnnotation = "volume.beta.kubernetes.io/storage-class"

func persistentVolumePrinter() Printer {
	spec, status := corev1.PersistentVolumeSpec{}.SwaggerDoc(), corev1.PersistentVolumeStatus{}.SwaggerDoc()
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Capacity", "string", spec["capacity"]),
			column("Access Modes", "string", spec["accessModes"]),
			column("Reclaim Policy", "string", spec["persistentVolumeReclaimPolicy"]),
			column("Status", "string", status["phase"]),
			column("Claim", "string", spec["claimRef"]),
			column("StorageClass", "string", "StorageClass of the pv"),
			column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
			column("Reason", "string", status["reason"]),
			ageColumn(),
			wideColumn("VolumeMode", "string", spec["volumeMode"]),
		},
		Row: typed(persistentVolumeRow),
	}
}

func persistentVolumeRow(pv *corev1.PersistentVolume, now time.Time) []interface{} {
	claim := ""
	if ref := pv.Spec.ClaimRef; ref != nil {
		claim = ref.Namespace + "/" + ref.Name
	}
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	class := pv.Spec.StorageClassName
	if c, ok := pv.Annotations[betaClassAnnotation]; ok {
		class = c
	}
	size := pv.Spec.Capacity[corev1.ResourceStorage]
	return []interface{}{pv.Name, size.String(), AccessModes(pv.Spec.AccessModes), string(pv.Spec.PersistentVolumeReclaimPolicy),
		phase, claim, class, unset(pv.Spec.VolumeAttributesClassName), pv.Status.Reason, age(pv.CreationTimestamp, now),
		volumeMode(pv.Spec.VolumeMode)}
}

func persistentVolumeClaimPrinter() Printer {
	spec, status := corev1.PersistentVolumeClaimSpec{}.SwaggerDoc(), corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Status", "string", status["phase"]),
			column("Volume", "string", spec["volumeName"]),
			column("Capacity", "string", status["capacity"]),
			column("Access Modes", "string", status["accessModes"]),
			column("StorageClass", "string", "StorageClass of the pvc"),
			column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
			ageColumn(),
			wideColumn("VolumeMode", "string", spec["volumeMode"]),
		},
		Row: typed(persistentVolumeClaimRow),
	}
}

func persistentVolumeClaimRow(c *corev1.PersistentVolumeClaim, now time.Time) []interface{} {
	phase := string(c.Status.Phase)
	if c.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	class := ""
	if name, ok := c.Annotations[betaClassAnnotation]; ok {
		class = name
	} else if c.Spec.StorageClassName != nil {
		class = *c.Spec.StorageClassName
	}
	capacity, modes := "", ""
	if c.Spec.VolumeName != "" {
		size := c.Status.Capacity[corev1.ResourceStorage]
		capacity, modes = size.String(), AccessModes(c.Status.AccessModes)
	}
	return []interface{}{c.Name, phase, c.Spec.VolumeName, capacity, modes, class,
		unset(c.Spec.VolumeAttributesClassName), age(c.CreationTimestamp, now), volumeMode(c.Spec.VolumeMode)}
}

func storageClassPrinter() Printer {
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Provisioner", "string", "Indicates the type of the provisioner."),
			column("ReclaimPolicy", "string", "Indicates the type of the reclaim policy."),
			column("VolumeBindingMode", "string", "Indicates the type of the volume binding mode."),
			column("AllowVolumeExpansion", "string", "Indicates whether the storage class allow volume expand."),
			ageColumn(),
		},
		Row: typed(storageClassRow),
	}
}

func storageClassRow(sc *storagev1.StorageClass, now time.Time) []interface{} {
	name := sc.Name
	if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" ||
		sc.Annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true" {
		name += " (default)"
	}
	reclaim := string(corev1.PersistentVolumeReclaimDelete)
	if sc.ReclaimPolicy != nil {
		reclaim = string(*sc.ReclaimPolicy)
	}
	mode := string(storagev1.VolumeBindingImmediate)
	if sc.VolumeBindingMode != nil {
		mode = string(*sc.VolumeBindingMode)
	}
	expand := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
	return []interface{}{name, sc.Provisioner, reclaim, mode, expand, age(sc.CreationTimestamp, now)}
}

// AccessModes is kubectl's short form of access modes: RWO,ROX,RWX,RWOP
// in that order, each once.
func AccessModes(modes []corev1.PersistentVolumeAccessMode) string {
	var out []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{{corev1.ReadWriteOnce, "RWO"}, {corev1.ReadOnlyMany, "ROX"}, {corev1.ReadWriteMany, "RWX"}, {corev1.ReadWriteOncePod, "RWOP"}} {
		for _, have := range modes {
			if have == m.mode {
				out = append(out, m.short)
				break
			}
		}
	}
	return strings.Join(out, ",")
}

func unset(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

func volumeMode(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return "<unset>"
	}
	return string(*m)
}
