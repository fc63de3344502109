package node

import (
	"context"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
)

const podCIDRChanged = `node updates may not change podCIDR except from "" to valid`

// Validate checks a new node: taints, resource quantities and pod CIDRs
// (valid, at most one per family, no duplicates). Taint errors sit under
// "metadata.taints", as upstream reports them.
func Validate(_ context.Context, node *corev1.Node) field.ErrorList {
	errs := validateTaints(node.Spec.Taints, field.NewPath("metadata", "taints"))
	errs = append(errs, validateResources(node)...)
	return append(errs, validatePodCIDRs(node.Spec.PodCIDRs, field.NewPath("spec", "podCIDRs"))...)
}

// ValidateUpdate checks the new node and what may not change: pod CIDRs
// and the provider ID once set, and the external ID.
func ValidateUpdate(ctx context.Context, node, old *corev1.Node) field.ErrorList {
	errs := Validate(ctx, node)
	return append(errs, validateNodeUpdate(node, old)...)
}

// ValidateStatusUpdate checks a status write with the update rules.
func ValidateStatusUpdate(_ context.Context, node, old *corev1.Node) field.ErrorList {
	errs := validateResources(node)
	return append(errs, validateNodeUpdate(node, old)...)
}

func validateNodeUpdate(node, old *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.NodeAddress]bool{}
	for i, addr := range node.Status.Addresses {
		if seen[addr] {
			errs = append(errs, field.Duplicate(field.NewPath("status", "addresses").Index(i), addr))
		}
		seen[addr] = true
	}
	if len(old.Spec.PodCIDRs) > 0 {
		if len(old.Spec.PodCIDRs) != len(node.Spec.PodCIDRs) {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), podCIDRChanged))
		} else {
			for i, cidr := range old.Spec.PodCIDRs {
				if node.Spec.PodCIDRs[i] != cidr {
					errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), podCIDRChanged))
				}
			}
		}
	}
	if old.Spec.ProviderID != "" && old.Spec.ProviderID != node.Spec.ProviderID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "providerID"), `node updates may not change providerID except from "" to valid`))
	}
	if node.Spec.DoNotUseExternalID != old.Spec.DoNotUseExternalID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "externalID"), "may not be updated"))
	}
	return errs
}

// validateTaints checks keys, values and effects, and that key and effect
// pairs are unique.
func validateTaints(taints []corev1.Taint, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, t := range taints {
		p := fldPath.Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, p.Child("key"))...)
		if msgs := validation.IsValidLabelValue(t.Value); len(msgs) != 0 {
			errs = append(errs, field.Invalid(p.Child("value"), t.Value, strings.Join(msgs, ";")))
		}
		if t.Effect == "" {
			errs = append(errs, field.Required(p.Child("effect"), ""))
		} else {
			errs = append(errs, pod.ValidateTaintEffect(t.Effect, p.Child("effect"))...)
		}
		key := string(t.Effect) + "/" + t.Key
		if seen.Has(key) {
			dup := field.Duplicate(p, t)
			dup.Detail = "taints must be unique by key and effect pair"
			errs = append(errs, dup)
			continue
		}
		seen.Insert(key)
	}
	return errs
}

// validateResources requires non-negative capacity and allocatable.
func validateResources(node *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	for _, list := range []struct {
		name string
		rl   corev1.ResourceList
	}{{"capacity", node.Status.Capacity}, {"allocatable", node.Status.Allocatable}} {
		for _, name := range slices.Sorted(maps.Keys(list.rl)) {
			q := list.rl[name]
			if q.Sign() < 0 {
				p := field.NewPath("status", list.name, string(name))
				errs = append(errs, field.Invalid(p, q.String(), apivalidation.IsNegativeErrorMsg))
			}
		}
	}
	return errs
}

// validatePodCIDRs requires valid CIDRs, at most one per family and no
// duplicates.
func validatePodCIDRs(cidrs []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	v4, v6 := 0, 0
	for i, c := range cidrs {
		errs = append(errs, validation.IsValidCIDR(p.Index(i), c)...)
		if strings.Contains(c, ":") {
			v6++
		} else {
			v4++
		}
	}
	if len(cidrs) <= 1 {
		return errs
	}
	if len(cidrs) > 2 || v4 != 1 || v6 != 1 {
		errs = append(errs, field.Invalid(p, cidrs, "may specify no more than one CIDR for each IP family"))
	}
	seen := sets.New[string]()
	for i, c := range cidrs {
		if seen.Has(c) {
			errs = append(errs, field.Duplicate(p.Index(i), c))
		}
		seen.Insert(c)
	}
	return errs
}
