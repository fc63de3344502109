// Package storageclass holds the write rules of storage.k8s.io/v1
// StorageClasses: upstream's defaults (reclaim policy Delete, binding mode
// Immediate), validation with upstream's texts and field paths, and the
// default-class annotation the DefaultStorageClass admission reads.
package storageclass

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// The annotations that make a class the default one.
const (
	DefaultAnnotation     = "storageclass.kubernetes.io/is-default-class"
	BetaDefaultAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

// Upstream's limits of a class's parameters.
const (
	maxParameters    = 512
	maxParameterSize = 256 * (1 << 10)
)

// Strategy returns the StorageClass strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*storagev1.StorageClass]{
		DefaultFunc:        Default,
		ValidateFunc:       Validate,
		ValidateUpdateFunc: ValidateUpdate,
	}
}

// IsDefault says whether the class carries the default-class annotation
// (or its beta form) set to "true".
func IsDefault(m metav1.ObjectMeta) bool {
	return m.Annotations[DefaultAnnotation] == "true" || m.Annotations[BetaDefaultAnnotation] == "true"
}

// Default applies storage/v1's defaults.
func Default(sc *storagev1.StorageClass) {
	if sc.ReclaimPolicy == nil {
		p := corev1.PersistentVolumeReclaimDelete
		sc.ReclaimPolicy = &p
	}
	if sc.VolumeBindingMode == nil {
		m := storagev1.VolumeBindingImmediate
		sc.VolumeBindingMode = &m
	}
}

// Validate checks a class as upstream's ValidateStorageClass.
func Validate(_ context.Context, sc *storagev1.StorageClass) field.ErrorList {
	errs := validateProvisioner(sc.Provisioner, field.NewPath("provisioner"))
	errs = append(errs, validateParameters(sc.Parameters, field.NewPath("parameters"))...)
	if p := sc.ReclaimPolicy; p != nil && *p != "" && *p != corev1.PersistentVolumeReclaimDelete && *p != corev1.PersistentVolumeReclaimRetain {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), *p, []string{string(corev1.PersistentVolumeReclaimDelete), string(corev1.PersistentVolumeReclaimRetain)}))
	}
	return append(errs, validateBindingMode(sc.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
}

func validateProvisioner(p string, path *field.Path) field.ErrorList {
	if p == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(strings.ToLower(p)) {
		errs = append(errs, field.Invalid(path, p, msg))
	}
	return errs
}

func validateParameters(params map[string]string, path *field.Path) field.ErrorList {
	if len(params) > maxParameters {
		return field.ErrorList{field.TooLong(path, "Provisioner Parameters exceeded max allowed", maxParameters)}
	}
	var errs field.ErrorList
	size := 0
	for k, v := range params {
		if k == "" {
			errs = append(errs, field.Invalid(path, k, "field can not be empty."))
		}
		size += len(k) + len(v)
	}
	if size > maxParameterSize {
		errs = append(errs, field.TooLong(path, "", maxParameterSize))
	}
	return errs
}

func validateBindingMode(m *storagev1.VolumeBindingMode, path *field.Path) field.ErrorList {
	switch {
	case m == nil:
		return field.ErrorList{field.Required(path, "")}
	case *m != storagev1.VolumeBindingImmediate && *m != storagev1.VolumeBindingWaitForFirstConsumer:
		return field.ErrorList{field.NotSupported(path, *m, []string{string(storagev1.VolumeBindingImmediate), string(storagev1.VolumeBindingWaitForFirstConsumer)})}
	}
	return nil
}

// ValidateUpdate also forbids changing the parameters, provisioner,
// reclaim policy and binding mode.
func ValidateUpdate(ctx context.Context, sc, old *storagev1.StorageClass) field.ErrorList {
	errs := Validate(ctx, sc)
	for _, f := range []struct {
		name     string
		new, old any
	}{{"parameters", sc.Parameters, old.Parameters}, {"provisioner", sc.Provisioner, old.Provisioner},
		{"reclaimPolicy", sc.ReclaimPolicy, old.ReclaimPolicy}} {
		if !equality.Semantic.DeepEqual(f.new, f.old) {
			errs = append(errs, field.Forbidden(field.NewPath(f.name), fmt.Sprintf("updates to %s are forbidden.", f.name)))
		}
	}
	return append(errs, apivalidation.ValidateImmutableField(sc.VolumeBindingMode, old.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
}
