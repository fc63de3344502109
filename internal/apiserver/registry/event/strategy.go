// Package event holds the write and read rules of core/v1 Events: the
// legacy validation upstream applies to core/v1 writes (the involved
// object's namespace must match the event's, and events with an eventTime
// must name their reporter and action), and the fields kubectl describe
// selects events by.
package event

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Length limits of the fields an eventTime event must set.
const (
	ReportingInstanceLengthLimit = 128
	ActionLengthLimit            = 128
	ReasonLengthLimit            = 128
	NoteLengthLimit              = 1024
)

const namespaceMismatch = "does not match event.namespace"

// Strategy returns the Event strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*corev1.Event]{
		ValidateFunc:       Validate,
		ValidateUpdateFunc: ValidateUpdate,
		FieldSetFunc:       FieldSet,
	}
}

// Validate applies upstream's legacy event validation, which is all a
// core/v1 write gets.
func Validate(_ context.Context, ev *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	if ev.EventTime.IsZero() {
		errs = append(errs, validateLegacyNamespace(ev)...)
	} else {
		errs = append(errs, validateReportedEvent(ev)...)
	}
	for _, msg := range validation.IsDNS1123Subdomain(ev.Namespace) {
		errs = append(errs, field.Invalid(field.NewPath("namespace"), ev.Namespace, msg))
	}
	return errs
}

// ValidateUpdate checks the new event as on create.
func ValidateUpdate(ctx context.Context, ev, _ *corev1.Event) field.ErrorList {
	return Validate(ctx, ev)
}

// validateLegacyNamespace: an event about a cluster-scoped object lives in
// "default" (or no namespace); otherwise in the object's namespace.
func validateLegacyNamespace(ev *corev1.Event) field.ErrorList {
	p := field.NewPath("involvedObject", "namespace")
	involved := ev.InvolvedObject.Namespace
	if involved == "" && ev.Namespace != metav1.NamespaceNone && ev.Namespace != metav1.NamespaceDefault {
		return field.ErrorList{field.Invalid(p, involved, namespaceMismatch)}
	}
	if involved != "" && ev.Namespace != involved {
		return field.ErrorList{field.Invalid(p, involved, namespaceMismatch)}
	}
	return nil
}

// validateReportedEvent checks an event written with an eventTime (by the
// events.k8s.io style recorders).
func validateReportedEvent(ev *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	if ev.InvolvedObject.Namespace == "" && ev.Namespace != metav1.NamespaceDefault && ev.Namespace != metav1.NamespaceSystem {
		errs = append(errs, field.Invalid(field.NewPath("involvedObject", "namespace"), ev.InvolvedObject.Namespace, namespaceMismatch))
	}
	if ev.ReportingController == "" {
		errs = append(errs, field.Required(field.NewPath("reportingController"), ""))
	}
	for _, msg := range validation.IsQualifiedName(ev.ReportingController) {
		errs = append(errs, field.Invalid(field.NewPath("reportingController"), ev.ReportingController, msg))
	}
	errs = append(errs, requiredWithLimit("reportingInstance", ev.ReportingInstance, ReportingInstanceLengthLimit)...)
	errs = append(errs, requiredWithLimit("action", ev.Action, ActionLengthLimit)...)
	errs = append(errs, requiredWithLimit("reason", ev.Reason, ReasonLengthLimit)...)
	if len(ev.Message) > NoteLengthLimit {
		errs = append(errs, field.Invalid(field.NewPath("message"), "", fmt.Sprintf("can have at most %v characters", NoteLengthLimit)))
	}
	return errs
}

func requiredWithLimit(name, value string, limit int) field.ErrorList {
	p := field.NewPath(name)
	if value == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if len(value) > limit {
		return field.ErrorList{field.Invalid(p, "", fmt.Sprintf("can have at most %v characters", limit))}
	}
	return nil
}

// FieldSet returns the fields an Event field selector may name. "source"
// falls back to the reporting controller for events that have no source.
func FieldSet(ev *corev1.Event) fields.Set {
	source := ev.Source.Component
	if source == "" {
		source = ev.ReportingController
	}
	set := registry.MetaFieldSet(ev)
	obj := ev.InvolvedObject
	set["involvedObject.kind"] = obj.Kind
	set["involvedObject.namespace"] = obj.Namespace
	set["involvedObject.name"] = obj.Name
	set["involvedObject.uid"] = string(obj.UID)
	set["involvedObject.apiVersion"] = obj.APIVersion
	set["involvedObject.resourceVersion"] = obj.ResourceVersion
	set["involvedObject.fieldPath"] = obj.FieldPath
	set["reason"] = ev.Reason
	set["reportingComponent"] = ev.ReportingController
	set["source"] = source
	set["type"] = ev.Type
	return set
}
