// Package secret holds the write and read rules of core/v1 Secrets: valid
// keys, at most 1 MiB of data, the keys each built-in type requires,
// stringData folded into data, an immutable type, and no change to the
// contents once the Secret is immutable.
package secret

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// MaxSize is the most bytes data may hold (upstream's core.MaxSecretSize).
const MaxSize = 1 * 1024 * 1024

const immutableMsg = "field is immutable when `immutable` is set"

// redacted stands for the value in errors about a Secret's contents.
const redacted = "<secret contents redacted>"

// Strategy returns the Secret strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*corev1.Secret]{
		DefaultFunc:        Default,
		ValidateFunc:       Validate,
		ValidateUpdateFunc: ValidateUpdate,
		FieldSetFunc:       FieldSet,
	}
}

// Default sets the type to Opaque when unset and folds stringData into
// data (stringData wins), as upstream's v1 conversion does: stringData is
// write-only and never stored.
func Default(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	if len(s.StringData) == 0 {
		s.StringData = nil
		return
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

// Validate checks the keys, the total size and the keys the type needs.
func Validate(_ context.Context, s *corev1.Secret) field.ErrorList {
	dataPath := field.NewPath("data")
	var errs field.ErrorList
	total := 0
	for _, key := range slices.Sorted(maps.Keys(s.Data)) {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(dataPath.Key(key), key, msg))
		}
		total += len(s.Data[key])
	}
	if total > MaxSize {
		errs = append(errs, field.TooLong(dataPath, "", MaxSize))
	}
	return append(errs, validateType(s, dataPath)...)
}

// typeRules are the keys each built-in type requires to be present (an
// SSH key must also not be empty).
var typeRules = map[corev1.SecretType][]string{
	corev1.SecretTypeDockercfg:        {corev1.DockerConfigKey},
	corev1.SecretTypeDockerConfigJson: {corev1.DockerConfigJsonKey},
	corev1.SecretTypeTLS:              {corev1.TLSCertKey, corev1.TLSPrivateKeyKey},
}

func validateType(s *corev1.Secret, dataPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, key := range typeRules[s.Type] {
		if _, ok := s.Data[key]; !ok {
			errs = append(errs, field.Required(dataPath.Key(key), ""))
		}
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg:
		errs = append(errs, validateJSON(s.Data, corev1.DockerConfigKey, dataPath)...)
	case corev1.SecretTypeDockerConfigJson:
		errs = append(errs, validateJSON(s.Data, corev1.DockerConfigJsonKey, dataPath)...)
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			errs = append(errs, field.Required(dataPath.Key(corev1.SSHAuthPrivateKey), ""))
		}
	case corev1.SecretTypeBasicAuth:
		_, user := s.Data[corev1.BasicAuthUsernameKey]
		_, pass := s.Data[corev1.BasicAuthPasswordKey]
		if !user && !pass {
			errs = append(errs, field.Required(dataPath.Key(corev1.BasicAuthUsernameKey), ""),
				field.Required(dataPath.Key(corev1.BasicAuthPasswordKey), ""))
		}
	}
	return errs
}

// validateJSON checks that a docker config key, when present, holds JSON.
func validateJSON(data map[string][]byte, key string, dataPath *field.Path) field.ErrorList {
	v, ok := data[key]
	if !ok {
		return nil
	}
	var anything map[string]any
	if err := json.Unmarshal(v, &anything); err != nil {
		return field.ErrorList{field.Invalid(dataPath.Key(key), redacted, err.Error())}
	}
	return nil
}

// ValidateUpdate keeps the type, forbids changing an immutable Secret's
// contents or making it mutable again, then checks the new object.
func ValidateUpdate(ctx context.Context, s, old *corev1.Secret) field.ErrorList {
	errs := apivalidation.ValidateImmutableField(s.Type, old.Type, field.NewPath("type"))
	if old.Immutable != nil && *old.Immutable {
		if s.Immutable == nil || !*s.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), immutableMsg))
		}
		if !reflect.DeepEqual(s.Data, old.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), immutableMsg))
		}
	}
	return append(errs, Validate(ctx, s)...)
}

// FieldSet adds type to the metadata fields, as upstream does.
func FieldSet(s *corev1.Secret) fields.Set {
	set := registry.MetaFieldSet(s)
	set["type"] = string(s.Type)
	return set
}
