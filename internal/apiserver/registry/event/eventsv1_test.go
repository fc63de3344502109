package event

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func v1Event(mutate func(*eventsv1.Event)) *eventsv1.Event {
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "web.17a", Namespace: "default"},
		EventTime:           metav1.NewMicroTime(time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)),
		ReportingController: "kube-proxy", ReportingInstance: "kube-proxy-node-1",
		Action: "StartKubeProxy", Reason: "Starting", Type: corev1.EventTypeNormal,
		Regarding: corev1.ObjectReference{Kind: "Node", Name: "node-1"},
	}
	if mutate != nil {
		mutate(ev)
	}
	return ev
}

func TestConversionRoundTrip(t *testing.T) {
	ev := v1Event(func(e *eventsv1.Event) {
		e.Note = "started"
		e.Related = &corev1.ObjectReference{Kind: "Pod", Name: "p"}
		e.Series = &eventsv1.EventSeries{Count: 3, LastObservedTime: e.EventTime}
		e.DeprecatedSource = corev1.EventSource{Component: "c", Host: "h"}
		e.DeprecatedFirstTimestamp = metav1.Unix(10, 0)
		e.DeprecatedLastTimestamp = metav1.Unix(20, 0)
		e.DeprecatedCount = 4
	})
	core := ToCore(ev)
	want := corev1.Event{
		InvolvedObject: ev.Regarding, Message: "started", Source: ev.DeprecatedSource,
		FirstTimestamp: ev.DeprecatedFirstTimestamp, LastTimestamp: ev.DeprecatedLastTimestamp, Count: 4,
		Series: &corev1.EventSeries{Count: 3, LastObservedTime: ev.EventTime}, Related: ev.Related,
	}
	if core.Message != want.Message || core.Count != want.Count || core.InvolvedObject != want.InvolvedObject ||
		core.Source != want.Source || !reflect.DeepEqual(core.Series, want.Series) || core.Related != want.Related ||
		core.ReportingController != "kube-proxy" || core.APIVersion != "v1" {
		t.Errorf("ToCore: %+v", core)
	}
	back := FromCore(core)
	ev.APIVersion, ev.Kind = "events.k8s.io/v1", "Event"
	if !reflect.DeepEqual(back, ev) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, ev)
	}
}

func TestValidateV1(t *testing.T) {
	tests := []struct {
		name string
		ev   *eventsv1.Event
		want []string
	}{
		{"valid", v1Event(nil), nil},
		{"no eventTime, bad type, deprecated fields set", v1Event(func(e *eventsv1.Event) {
			e.EventTime = metav1.MicroTime{}
			e.Type = "Info"
			e.DeprecatedCount = 2
			e.DeprecatedSource.Component = "x"
			e.DeprecatedFirstTimestamp = metav1.Unix(1, 0)
			e.DeprecatedLastTimestamp = metav1.Unix(1, 0)
			e.Regarding.Namespace = ""
		}), []string{
			"eventTime: Required value",
			`type: Invalid value: "": has invalid value: Info`,
			`firstTimestamp: Invalid value: "": needs to be unset`,
			`lastTimestamp: Invalid value: "": needs to be unset`,
			`count: Invalid value: "": needs to be unset`,
			`source: Invalid value: "": needs to be unset`,
		}},
		{"series", v1Event(func(e *eventsv1.Event) { e.Series = &eventsv1.EventSeries{Count: 1} }), []string{
			`series.count: Invalid value: "": should be at least 2`,
			"series.lastObservedTime: Required value",
		}},
		{"no reporter", v1Event(func(e *eventsv1.Event) { e.ReportingInstance, e.Action = "", "" }), []string{
			"reportingInstance: Required value", "action: Required value",
		}},
	}
	s := V1Strategy()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, s.Validate(context.Background(), tc.ev), tc.want)
		})
	}
}

func TestValidateV1Update(t *testing.T) {
	old := v1Event(nil)
	series := v1Event(func(e *eventsv1.Event) { e.Series = &eventsv1.EventSeries{Count: 2, LastObservedTime: e.EventTime} })
	changed := v1Event(func(e *eventsv1.Event) { e.Note, e.Reason = "other", "Other" })
	s := V1Strategy()
	checkErrors(t, s.ValidateUpdate(context.Background(), series, old), nil)
	checkErrors(t, s.ValidateUpdate(context.Background(), changed, old), []string{
		`reason: Invalid value: "Other": field is immutable`,
		`message: Invalid value: "other": field is immutable`,
		`reason: Invalid value: "Other": field is immutable`,
	})
}

func TestV1FieldSet(t *testing.T) {
	got := V1Strategy().FieldSet(v1Event(nil))
	if got["involvedObject.name"] != "node-1" || got["reportingComponent"] != "kube-proxy" || got["source"] != "kube-proxy" {
		t.Errorf("FieldSet: %v", got)
	}
}
