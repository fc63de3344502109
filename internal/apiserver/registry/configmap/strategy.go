// Package configmap holds the write rules of core/v1 ConfigMaps: valid and
// distinct keys in data and binaryData, at most 1 MiB in all, and no change
// to the contents once the ConfigMap is immutable.
package configmap

import (
	"context"
	"maps"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// MaxSize is the most bytes data and binaryData may hold together
// (upstream's core.MaxSecretSize).
const MaxSize = 1 * 1024 * 1024

const immutableMsg = "field is immutable when `immutable` is set"

// Strategy returns the ConfigMap strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*corev1.ConfigMap]{
		DefaultFunc:        Default,
		ValidateFunc:       Validate,
		ValidateUpdateFunc: ValidateUpdate,
	}
}

// Default makes data an empty map when unset, as upstream does.
func Default(cm *corev1.ConfigMap) {
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
}

// Validate checks keys and the total size. Keys are checked in sorted
// order so the errors are stable.
func Validate(_ context.Context, cm *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	total := 0
	for _, key := range slices.Sorted(maps.Keys(cm.Data)) {
		p := field.NewPath("data").Key(key)
		errs = append(errs, validateKey(key, p)...)
		if _, dup := cm.BinaryData[key]; dup {
			errs = append(errs, field.Invalid(p, key, "duplicate of key present in binaryData"))
		}
		total += len(cm.Data[key])
	}
	for _, key := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		errs = append(errs, validateKey(key, field.NewPath("binaryData").Key(key))...)
		total += len(cm.BinaryData[key])
	}
	if total > MaxSize {
		// An empty path: the error is about the whole object.
		errs = append(errs, field.TooLong(field.NewPath(""), "", MaxSize))
	}
	return errs
}

func validateKey(key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsConfigMapKey(key) {
		errs = append(errs, field.Invalid(p, key, msg))
	}
	return errs
}

// ValidateUpdate forbids changing an immutable ConfigMap's contents or
// making it mutable again, then checks the new object.
func ValidateUpdate(ctx context.Context, cm, old *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	if old.Immutable != nil && *old.Immutable {
		if cm.Immutable == nil || !*cm.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), immutableMsg))
		}
		if !reflect.DeepEqual(cm.Data, old.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), immutableMsg))
		}
		if !reflect.DeepEqual(cm.BinaryData, old.BinaryData) {
			errs = append(errs, field.Forbidden(field.NewPath("binaryData"), immutableMsg))
		}
	}
	return append(errs, Validate(ctx, cm)...)
}
