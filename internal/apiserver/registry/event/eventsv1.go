package event

import (
	"context"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// An events.k8s.io/v1 Event is the same object as a core/v1 Event, stored
// once under /registry/events/ in its core/v1 form, as upstream keeps it:
// regarding is involvedObject, note is message, and the deprecated* fields
// are source, firstTimestamp, lastTimestamp and count.

// ToCore returns the core/v1 form of an events.k8s.io/v1 Event. The result
// shares ev's maps and pointers.
func ToCore(ev *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		TypeMeta:            corev1EventType,
		ObjectMeta:          ev.ObjectMeta,
		InvolvedObject:      ev.Regarding,
		Reason:              ev.Reason,
		Message:             ev.Note,
		Source:              ev.DeprecatedSource,
		FirstTimestamp:      ev.DeprecatedFirstTimestamp,
		LastTimestamp:       ev.DeprecatedLastTimestamp,
		Count:               ev.DeprecatedCount,
		Type:                ev.Type,
		EventTime:           ev.EventTime,
		Action:              ev.Action,
		Related:             ev.Related,
		ReportingController: ev.ReportingController,
		ReportingInstance:   ev.ReportingInstance,
	}
	if ev.Series != nil {
		out.Series = &corev1.EventSeries{Count: ev.Series.Count, LastObservedTime: ev.Series.LastObservedTime}
	}
	return out
}

// FromCore returns the events.k8s.io/v1 form of a core/v1 Event. The
// result shares ev's maps and pointers.
func FromCore(ev *corev1.Event) *eventsv1.Event {
	out := &eventsv1.Event{
		TypeMeta:                 eventsv1EventType,
		ObjectMeta:               ev.ObjectMeta,
		EventTime:                ev.EventTime,
		ReportingController:      ev.ReportingController,
		ReportingInstance:        ev.ReportingInstance,
		Action:                   ev.Action,
		Reason:                   ev.Reason,
		Regarding:                ev.InvolvedObject,
		Related:                  ev.Related,
		Note:                     ev.Message,
		Type:                     ev.Type,
		DeprecatedSource:         ev.Source,
		DeprecatedFirstTimestamp: ev.FirstTimestamp,
		DeprecatedLastTimestamp:  ev.LastTimestamp,
		DeprecatedCount:          ev.Count,
	}
	if ev.Series != nil {
		out.Series = &eventsv1.EventSeries{Count: ev.Series.Count, LastObservedTime: ev.Series.LastObservedTime}
	}
	return out
}

var (
	corev1EventType   = metav1.TypeMeta{APIVersion: "v1", Kind: "Event"}
	eventsv1EventType = metav1.TypeMeta{APIVersion: "events.k8s.io/v1", Kind: "Event"}
)

// Stored says how events.k8s.io/v1 Events are kept: as core/v1 Events.
func Stored() *registry.StoredAs {
	return &registry.StoredAs{
		Kind: corev1.SchemeGroupVersion.WithKind("Event"),
		New:  func() runtime.Object { return &corev1.Event{} },
		ToStorage: func(obj runtime.Object) (runtime.Object, error) {
			ev, ok := obj.(*eventsv1.Event)
			if !ok {
				return nil, fmt.Errorf("store events.k8s.io event: got %T", obj)
			}
			return ToCore(ev), nil
		},
		FromStorage: func(obj runtime.Object) (runtime.Object, error) {
			ev, ok := obj.(*corev1.Event)
			if !ok {
				return nil, fmt.Errorf("read events.k8s.io event: got %T", obj)
			}
			return FromCore(ev), nil
		},
	}
}

// V1Strategy returns the events.k8s.io/v1 Event strategy: upstream's
// legacy validation, then the strict one of the events.k8s.io API. Field
// paths name the core fields (involvedObject, message, source...), as
// upstream's do, since both APIs validate the one stored form.
func V1Strategy() registry.Strategy {
	return registry.Typed[*eventsv1.Event]{
		ValidateFunc: func(ctx context.Context, ev *eventsv1.Event) field.ErrorList {
			return ValidateV1(ctx, ToCore(ev))
		},
		ValidateUpdateFunc: func(ctx context.Context, ev, old *eventsv1.Event) field.ErrorList {
			return ValidateV1Update(ctx, ToCore(ev), ToCore(old))
		},
		FieldSetFunc: func(ev *eventsv1.Event) fields.Set { return FieldSet(ToCore(ev)) },
	}
}

// ValidateV1 is upstream's validation of an Event created through
// events.k8s.io/v1 (metadata is checked by the REST layer).
func ValidateV1(ctx context.Context, ev *corev1.Event) field.ErrorList {
	errs := Validate(ctx, ev)
	errs = append(errs, validateSeries(ev)...)
	if ev.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if ev.Type != corev1.EventTypeNormal && ev.Type != corev1.EventTypeWarning {
		errs = append(errs, field.Invalid(field.NewPath("type"), "", fmt.Sprintf("has invalid value: %v", ev.Type)))
	}
	unset := []struct {
		name string
		set  bool
	}{
		{"firstTimestamp", !ev.FirstTimestamp.IsZero()},
		{"lastTimestamp", !ev.LastTimestamp.IsZero()},
		{"count", ev.Count != 0},
		{"source", ev.Source.Component != "" || ev.Source.Host != ""},
	}
	for _, f := range unset {
		if f.set {
			errs = append(errs, field.Invalid(field.NewPath(f.name), "", "needs to be unset"))
		}
	}
	return errs
}

// ValidateV1Update is upstream's validation of an Event updated through
// events.k8s.io/v1: only the series may change.
func ValidateV1Update(ctx context.Context, ev, old *corev1.Event) field.ErrorList {
	errs := Validate(ctx, ev)
	if !reflect.DeepEqual(ev.Series, old.Series) {
		errs = append(errs, validateSeries(ev)...)
	}
	immutable := []struct {
		name     string
		new, old any
	}{
		{"involvedObject", ev.InvolvedObject, old.InvolvedObject},
		{"reason", ev.Reason, old.Reason},
		{"message", ev.Message, old.Message},
		{"source", ev.Source, old.Source},
		{"firstTimestamp", ev.FirstTimestamp, old.FirstTimestamp},
		{"lastTimestamp", ev.LastTimestamp, old.LastTimestamp},
		{"count", ev.Count, old.Count},
		{"reason", ev.Reason, old.Reason},
		{"type", ev.Type, old.Type},
		{"eventTime", ev.EventTime, old.EventTime},
		{"action", ev.Action, old.Action},
		{"related", ev.Related, old.Related},
		{"reportingController", ev.ReportingController, old.ReportingController},
		{"reportingInstance", ev.ReportingInstance, old.ReportingInstance},
	}
	for _, f := range immutable {
		errs = append(errs, apivalidation.ValidateImmutableField(f.new, f.old, field.NewPath(f.name))...)
	}
	return errs
}

func validateSeries(ev *corev1.Event) field.ErrorList {
	if ev.Series == nil {
		return nil
	}
	var errs field.ErrorList
	if ev.Series.Count < 2 {
		errs = append(errs, field.Invalid(field.NewPath("series.count"), "", "should be at least 2"))
	}
	if ev.Series.LastObservedTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("series.lastObservedTime"), ""))
	}
	return errs
}
