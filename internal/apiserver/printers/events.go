package printers

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eventreg "github.com/svcplane/svcplane/internal/apiserver/registry/event"
)

func eventPrinter() Printer {
	doc := corev1.Event{}.SwaggerDoc()
	name := nameColumn()
	name.Priority = 1
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			column("Last Seen", "string", doc["lastTimestamp"]),
			column("Type", "string", doc["type"]),
			column("Reason", "string", doc["reason"]),
			column("Object", "string", doc["involvedObject"]),
			wideColumn("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]),
			wideColumn("Source", "string", doc["source"]),
			column("Message", "string", doc["message"]),
			wideColumn("First Seen", "string", doc["firstTimestamp"]),
			wideColumn("Count", "string", doc["count"]),
			name,
		},
		Row: typed(eventRow),
	}
}

// eventsV1Printer prints events.k8s.io/v1 Events with the core columns,
// as upstream does: both APIs share one printer over the stored form.
func eventsV1Printer() Printer {
	p := eventPrinter()
	p.Row = typed(func(e *eventsv1.Event, now time.Time) []interface{} {
		return eventRow(eventreg.ToCore(e), now)
	})
	return p
}

func eventRow(e *corev1.Event, now time.Time) []interface{} {
	first := age(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		first = microAge(e.EventTime, now)
	}
	last := age(e.LastTimestamp, now)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last, count = microAge(e.Series.LastObservedTime, now), e.Series.Count
	} else if count == 0 {
		count = 1 // events.k8s.io singletons carry no count
	}
	return []interface{}{
		last,
		e.Type,
		e.Reason,
		eventObject(e.InvolvedObject),
		e.InvolvedObject.FieldPath,
		eventSource(e),
		strings.TrimSpace(e.Message),
		first,
		int64(count),
		e.Name,
	}
}

// eventObject is kind/name in lower case, e.g. pod/web-0.
func eventObject(ref corev1.ObjectReference) string {
	kind := strings.ToLower(ref.Kind)
	if ref.Name == "" {
		return kind
	}
	return kind + "/" + ref.Name
}

// eventSource is "component, host", falling back to the reporting
// controller and instance, without the host part when there is none.
func eventSource(e *corev1.Event) string {
	component := orDefault(e.Source.Component, e.ReportingController)
	host := orDefault(e.Source.Host, e.ReportingInstance)
	if host == "" {
		return component
	}
	return component + ", " + host
}
