package resourcequota

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const existsOnly = "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, " +
	"ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"

// validateScopes checks spec.scopes as upstream does.
func validateScopes(spec *corev1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	if len(spec.Scopes) == 0 {
		return nil
	}
	p = p.Child("scopes")
	var errs field.ErrorList
	for _, s := range spec.Scopes {
		if !standardScope(s) {
			errs = append(errs, field.Invalid(p, spec.Scopes, "unsupported scope"))
		}
		errs = append(errs, scopeResources(spec, s, p, spec.Scopes)...)
	}
	if conflicting(sets.New(spec.Scopes...)) {
		errs = append(errs, field.Invalid(p, spec.Scopes, "conflicting scopes"))
	}
	return errs
}

// scopeResources refuses standard resources the scope does not apply to.
func scopeResources(spec *corev1.ResourceQuotaSpec, s corev1.ResourceQuotaScope, p *field.Path, value any) field.ErrorList {
	var errs field.ErrorList
	for _, name := range slices.Sorted(maps.Keys(spec.Hard)) {
		if standardQuotaResource(name) && !scopeValid(s, name) {
			errs = append(errs, field.Invalid(p, value, "unsupported scope applied to resource"))
		}
	}
	return errs
}

func conflicting(scopes sets.Set[corev1.ResourceQuotaScope]) bool {
	return scopes.HasAll(corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort) ||
		scopes.HasAll(corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating)
}

// validateSelector checks spec.scopeSelector.matchExpressions.
func validateSelector(spec *corev1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	scopes := sets.New[corev1.ResourceQuotaScope]()
	for _, req := range spec.ScopeSelector.MatchExpressions {
		if !standardScope(req.ScopeName) {
			errs = append(errs, field.Invalid(p.Child("scopeName"), req.ScopeName, "unsupported scope"))
		}
		errs = append(errs, scopeResources(spec, req.ScopeName, p, spec.ScopeSelector)...)
		switch req.ScopeName {
		case corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopeTerminating,
			corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
			if req.Operator != corev1.ScopeSelectorOpExists {
				errs = append(errs, field.Invalid(p.Child("operator"), req.Operator, existsOnly))
			}
		}
		errs = append(errs, validateOperator(req, p)...)
		scopes.Insert(req.ScopeName)
	}
	if conflicting(scopes) {
		errs = append(errs, field.Invalid(p, spec.Scopes, "conflicting scopes"))
	}
	return errs
}

func validateOperator(req corev1.ScopedResourceSelectorRequirement, p *field.Path) field.ErrorList {
	switch req.Operator {
	case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
		if len(req.Values) == 0 {
			return field.ErrorList{field.Required(p.Child("values"),
				"must be at least one value when `operator` is 'In' or 'NotIn' for scope selector")}
		}
	case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
		if len(req.Values) != 0 {
			return field.ErrorList{field.Invalid(p.Child("values"), req.Values,
				"must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector")}
		}
	default:
		return field.ErrorList{field.Invalid(p.Child("operator"), req.Operator, "not a valid selector operator")}
	}
	return nil
}
