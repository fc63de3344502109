package pod

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// updatablePodSpecFields is the list upstream's error message names.
var updatablePodSpecFields = []string{
	"`spec.containers[*].image`",
	"`spec.initContainers[*].image`",
	"`spec.activeDeadlineSeconds`",
	"`spec.tolerations` (only additions to existing tolerations)",
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
}

// ValidateUpdate checks a Pod update: the new pod must be valid and its
// spec may change only in images, activeDeadlineSeconds (down), added
// tolerations, removed scheduling gates and a negative grace period set to 1.
func ValidateUpdate(_ context.Context, pod, old *corev1.Pod) field.ErrorList {
	specPath := field.NewPath("spec")
	errs := validatePod(pod)
	cErrs, stop := validateContainerUpdates(pod.Spec.Containers, old.Spec.Containers, specPath.Child("containers"))
	if errs = append(errs, cErrs...); stop {
		return errs
	}
	cErrs, stop = validateContainerUpdates(pod.Spec.InitContainers, old.Spec.InitContainers, specPath.Child("initContainers"))
	if errs = append(errs, cErrs...); stop {
		return errs
	}
	dErrs, stop := validateActiveDeadlineUpdate(pod.Spec.ActiveDeadlineSeconds, old.Spec.ActiveDeadlineSeconds, specPath.Child("activeDeadlineSeconds"))
	if errs = append(errs, dErrs...); stop {
		return errs
	}
	errs = append(errs, validateOnlyAddedTolerations(pod.Spec.Tolerations, old.Spec.Tolerations, specPath.Child("tolerations"))...)
	errs = append(errs, validateOnlyDeletedSchedulingGates(pod.Spec.SchedulingGates, old.Spec.SchedulingGates, specPath.Child("schedulingGates"))...)
	return append(errs, validateOnlyUpdatableChanged(&pod.Spec, &old.Spec, specPath)...)
}

func validateContainerUpdates(containers, old []corev1.Container, fldPath *field.Path) (field.ErrorList, bool) {
	if len(containers) != len(old) {
		return field.ErrorList{field.Forbidden(fldPath, "pod updates may not add or remove containers")}, true
	}
	var errs field.ErrorList
	for i, c := range containers {
		if c.Image == "" {
			errs = append(errs, field.Required(fldPath.Index(i).Child("image"), ""))
		}
	}
	return errs, false
}

// validateActiveDeadlineUpdate allows setting a deadline and lowering it.
func validateActiveDeadlineUpdate(deadline, old *int64, p *field.Path) (field.ErrorList, bool) {
	switch {
	case deadline == nil && old != nil:
		return field.ErrorList{field.Invalid(p, deadline, "must not update from a positive integer to nil value")}, false
	case deadline == nil:
		return nil, false
	case *deadline < 0 || *deadline > math.MaxInt32:
		return field.ErrorList{field.Invalid(p, *deadline, validation.InclusiveRangeError(0, math.MaxInt32))}, true
	case old != nil && *old < *deadline:
		return field.ErrorList{field.Invalid(p, *deadline, "must be less than or equal to previous value")}, true
	}
	return nil, false
}

// validateOnlyAddedTolerations keeps every old toleration (tolerationSeconds
// may change) and validates the new list.
func validateOnlyAddedTolerations(tolerations, old []corev1.Toleration, p *field.Path) field.ErrorList {
	for _, o := range old {
		found := false
		for _, t := range tolerations {
			o.TolerationSeconds = t.TolerationSeconds
			if reflect.DeepEqual(o, t) {
				found = true
				break
			}
		}
		if !found {
			return field.ErrorList{field.Forbidden(p, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return validateTolerations(tolerations, p)
}

func validateOnlyDeletedSchedulingGates(gates, old []corev1.PodSchedulingGate, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	oldNames := map[string]bool{}
	for _, g := range old {
		oldNames[g.Name] = true
	}
	for i, g := range gates {
		if !oldNames[g.Name] {
			msg := fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", g.Name)
			errs = append(errs, field.Forbidden(p.Index(i).Child("name"), msg))
		}
	}
	return errs
}

// validateOnlyUpdatableChanged puts the old values of the updatable fields
// into a copy of the new spec and forbids any remaining difference.
func validateOnlyUpdatableChanged(spec, old *corev1.PodSpec, specPath *field.Path) field.ErrorList {
	if equality.Semantic.DeepEqual(spec, old) {
		return nil
	}
	munged := spec.DeepCopy()
	for i := range munged.Containers {
		munged.Containers[i].Image = old.Containers[i].Image
	}
	for i := range munged.InitContainers {
		munged.InitContainers[i].Image = old.InitContainers[i].Image
	}
	munged.ActiveDeadlineSeconds = old.ActiveDeadlineSeconds
	munged.SchedulingGates = old.SchedulingGates
	munged.Tolerations = old.Tolerations
	if g := old.TerminationGracePeriodSeconds; g != nil && *g < 0 && munged.TerminationGracePeriodSeconds != nil && *munged.TerminationGracePeriodSeconds == 1 {
		munged.TerminationGracePeriodSeconds = g
	}
	if equality.Semantic.DeepEqual(munged, old) {
		return nil
	}
	msg := fmt.Sprintf("pod updates may not change fields other than %s\n%s", strings.Join(updatablePodSpecFields, ","), specDiff(old, munged))
	return field.ErrorList{field.Forbidden(specPath, msg)}
}

// specDiff lists the top-level spec fields that differ, one "-" line with
// the old JSON value and one "+" line with the new. (Upstream prints a
// go-cmp diff of its internal type instead.)
func specDiff(old, spec *corev1.PodSpec) string {
	before, after := jsonFields(old), jsonFields(spec)
	keys := make([]string, 0, len(before)+len(after))
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if string(before[k]) != string(after[k]) {
			fmt.Fprintf(&b, "- %s: %s\n+ %s: %s\n", k, orNull(before[k]), k, orNull(after[k]))
		}
	}
	return b.String()
}

func jsonFields(spec *corev1.PodSpec) map[string]json.RawMessage {
	fields := map[string]json.RawMessage{}
	if data, err := json.Marshal(spec); err == nil {
		_ = json.Unmarshal(data, &fields)
	}
	return fields
}

func orNull(v json.RawMessage) string {
	if v == nil {
		return "null"
	}
	return string(v)
}
