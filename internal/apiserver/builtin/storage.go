package builtin

import (
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/persistentvolume"
	"github.com/svcplane/svcplane/internal/apiserver/registry/storageclass"
)

// storageResources are core/v1 PersistentVolumes and
// PersistentVolumeClaims, with their status subresources, and
// storage.k8s.io/v1 StorageClasses.
func storageResources(cfg Config) []*registry.Resource {
	v1 := corev1.SchemeGroupVersion
	return []*registry.Resource{
		{GroupVersion: v1, Name: "persistentvolumes", Singular: "persistentvolume", Kind: "PersistentVolume", ListKind: "PersistentVolumeList",
			ShortNames: []string{"pv"}, Subresources: []string{"status"}, ValidateName: persistentvolume.ValidateName, Hooks: cfg.VolumeHooks,
			New: newOf[corev1.PersistentVolume], NewList: newOf[corev1.PersistentVolumeList], Strategy: persistentvolume.Strategy(nil)},
		{GroupVersion: v1, Name: "persistentvolumeclaims", Singular: "persistentvolumeclaim", Kind: "PersistentVolumeClaim",
			ListKind: "PersistentVolumeClaimList", Namespaced: true, ShortNames: []string{"pvc"}, Subresources: []string{"status"},
			ValidateName: persistentvolume.ValidateName, Hooks: cfg.ClaimHooks,
			New: newOf[corev1.PersistentVolumeClaim], NewList: newOf[corev1.PersistentVolumeClaimList], Strategy: persistentvolume.ClaimStrategy()},
		{GroupVersion: storagev1.SchemeGroupVersion, Name: "storageclasses", Singular: "storageclass", Kind: "StorageClass", ListKind: "StorageClassList",
			ShortNames: []string{"sc"}, ValidateName: apivalidation.NameIsDNSSubdomain,
			New: newOf[storagev1.StorageClass], NewList: newOf[storagev1.StorageClassList], Strategy: storageclass.Strategy()},
	}
}
