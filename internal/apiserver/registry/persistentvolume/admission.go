package persistentvolume

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/storageclass"
)

// The finalizers StorageObjectInUseProtection puts on new claims and
// volumes; the PV controller's protection loops remove them once nothing
// uses the object.
const (
	ClaimProtectionFinalizer  = "kubernetes.io/pvc-protection"
	VolumeProtectionFinalizer = "kubernetes.io/pv-protection"
)

// BetaClassAnnotation is the storage class annotation that predates
// spec.storageClassName and still wins over it.
const BetaClassAnnotation = "volume.beta.kubernetes.io/storage-class"

// DefaultStorageClass is upstream's admission plugin of that name: a new
// claim that names no class gets the default one (the newest, when
// several are marked default).
type DefaultStorageClass struct {
	// Classes lists the StorageClasses.
	Classes func(ctx context.Context) ([]*storagev1.StorageClass, error)
}

var _ registry.Hooks = DefaultStorageClass{}

// BeforeCreate sets the claim's class.
func (d DefaultStorageClass) BeforeCreate(ctx context.Context, obj runtime.Object, _ bool) (registry.Pending, error) {
	c, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok || c.Spec.StorageClassName != nil || c.Annotations[BetaClassAnnotation] != "" {
		return registry.Pending{}, nil
	}
	classes, err := d.Classes(ctx)
	if err != nil {
		return registry.Pending{}, fmt.Errorf("default storage class: %w", err)
	}
	if def := DefaultClass(classes); def != nil {
		name := def.Name
		c.Spec.StorageClassName = &name
	}
	return registry.Pending{}, nil
}

// DefaultClass returns the default class: of those marked default, the
// newest (by name on a tie), or nil.
func DefaultClass(classes []*storagev1.StorageClass) *storagev1.StorageClass {
	var defaults []*storagev1.StorageClass
	for _, sc := range classes {
		if storageclass.IsDefault(sc.ObjectMeta) {
			defaults = append(defaults, sc)
		}
	}
	if len(defaults) == 0 {
		return nil
	}
	slices.SortFunc(defaults, func(a, b *storagev1.StorageClass) int {
		if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
			return c
		}
		return compareStrings(a.Name, b.Name)
	})
	return defaults[0]
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// BeforeUpdate does nothing: the plugin acts on create only.
func (DefaultStorageClass) BeforeUpdate(context.Context, runtime.Object, runtime.Object, bool) (registry.Pending, error) {
	return registry.Pending{}, nil
}

// AfterDelete does nothing.
func (DefaultStorageClass) AfterDelete(context.Context, runtime.Object) {}

// InUseProtection is upstream's StorageObjectInUseProtection admission:
// new claims get the pvc-protection finalizer, new volumes the
// pv-protection one.
type InUseProtection struct{}

var _ registry.Hooks = InUseProtection{}

// BeforeCreate adds the finalizer.
func (InUseProtection) BeforeCreate(_ context.Context, obj runtime.Object, _ bool) (registry.Pending, error) {
	switch o := obj.(type) {
	case *corev1.PersistentVolumeClaim:
		if !slices.Contains(o.Finalizers, ClaimProtectionFinalizer) {
			o.Finalizers = append(o.Finalizers, ClaimProtectionFinalizer)
		}
	case *corev1.PersistentVolume:
		if !slices.Contains(o.Finalizers, VolumeProtectionFinalizer) {
			o.Finalizers = append(o.Finalizers, VolumeProtectionFinalizer)
		}
	}
	return registry.Pending{}, nil
}

// BeforeUpdate does nothing.
func (InUseProtection) BeforeUpdate(context.Context, runtime.Object, runtime.Object, bool) (registry.Pending, error) {
	return registry.Pending{}, nil
}

// AfterDelete does nothing.
func (InUseProtection) AfterDelete(context.Context, runtime.Object) {}
