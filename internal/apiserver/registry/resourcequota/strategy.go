// Package resourcequota holds the write rules of core/v1 ResourceQuotas:
// quota resource names and non-negative (integer where counted) values in
// spec.hard and the status, valid scopes and scope selectors, and scopes
// that do not change. The status (hard and used) is the resourcequota
// controller's and the quota admission's, written through status.
package resourcequota

import (
	"context"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Upstream's messages.
const (
	invalidQuotaResource = "must be a standard resource for quota"
	notStandardResource  = "must be a standard resource type or fully qualified"
	notInteger           = "must be an integer"
	negative             = "must be greater than or equal to 0"
	immutable            = "field is immutable"
)

// Strategy returns the ResourceQuota strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*corev1.ResourceQuota]{
		PrepareForCreateFunc: func(_ context.Context, q *corev1.ResourceQuota) { q.Status = corev1.ResourceQuotaStatus{} },
		PrepareForUpdateFunc: func(_ context.Context, q, old *corev1.ResourceQuota) { q.Status = old.Status },
		PrepareForStatusUpdateFunc: func(_ context.Context, q, old *corev1.ResourceQuota) {
			q.Spec = old.Spec
		},
		ValidateFunc:             Validate,
		ValidateUpdateFunc:       ValidateUpdate,
		ValidateStatusUpdateFunc: func(_ context.Context, q, _ *corev1.ResourceQuota) field.ErrorList { return validateStatus(q.Status) },
	}
}

// Validate checks a new quota's spec and status.
func Validate(_ context.Context, q *corev1.ResourceQuota) field.ErrorList {
	return append(validateSpec(&q.Spec, field.NewPath("spec")), validateStatus(q.Status)...)
}

// ValidateUpdate checks the new spec and that the scopes did not change.
func ValidateUpdate(_ context.Context, q, old *corev1.ResourceQuota) field.ErrorList {
	errs := validateSpec(&q.Spec, field.NewPath("spec"))
	if !sets.New(q.Spec.Scopes...).Equal(sets.New(old.Spec.Scopes...)) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "scopes"), q.Spec.Scopes, immutable))
	}
	return errs
}

func validateStatus(s corev1.ResourceQuotaStatus) field.ErrorList {
	p := field.NewPath("status")
	return append(validateList(s.Hard, p.Child("hard")), validateList(s.Used, p.Child("used"))...)
}

func validateSpec(spec *corev1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	errs := validateList(spec.Hard, p.Child("hard"))
	errs = append(errs, validateScopes(spec, p)...)
	if spec.ScopeSelector != nil {
		errs = append(errs, validateSelector(spec, p.Child("scopeSelector", "matchExpressions"))...)
	}
	return errs
}

// validateList checks each name and value, in name order.
func validateList(l corev1.ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range slices.Sorted(maps.Keys(l)) {
		rp := p.Key(string(name))
		errs = append(errs, ValidateName(name, rp)...)
		errs = append(errs, validateValue(name, l[name], rp)...)
	}
	return errs
}

// ValidateName checks a quota resource name: qualified, and a standard
// quota resource unless it has a prefix (count/pods, example.com/gpu).
func ValidateName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(name)) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	if len(errs) > 0 || strings.Contains(string(name), "/") {
		return errs
	}
	if !standardResource(name) {
		errs = append(errs, field.Invalid(p, name, notStandardResource))
	}
	if !standardQuotaResource(name) {
		errs = append(errs, field.Invalid(p, name, invalidQuotaResource))
	}
	return errs
}

func validateValue(name corev1.ResourceName, v resource.Quantity, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if v.Sign() < 0 {
		errs = append(errs, field.Invalid(p, v.String(), negative))
	}
	if integerResource(name) && v.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(p, v, notInteger))
	}
	return errs
}
