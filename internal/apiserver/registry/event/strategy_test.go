package event

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func event(ns, involvedNS string) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web.17a", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", Namespace: involvedNS},
		Reason:         "Started", Type: "Normal",
	}
}

func TestValidate(t *testing.T) {
	reported := event("default", "default")
	reported.EventTime = metav1.NowMicro()
	tests := []struct {
		name string
		ev   *corev1.Event
		want []string
	}{
		{"same namespace", event("default", "default"), nil},
		{"cluster-scoped object in default", event("default", ""), nil},
		{"namespace mismatch", event("default", "kube-system"),
			[]string{`involvedObject.namespace: Invalid value: "kube-system": does not match event.namespace`}},
		{"cluster-scoped object elsewhere", event("team-a", ""),
			[]string{`involvedObject.namespace: Invalid value: "": does not match event.namespace`}},
		{"eventTime without reporter", reported, []string{
			"reportingController: Required value",
			`reportingController: Invalid value: "": name part must be non-empty`,
			`reportingController: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
			"reportingInstance: Required value",
			"action: Required value",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, Validate(context.Background(), tc.ev), tc.want)
		})
	}
}

func TestFieldSet(t *testing.T) {
	ev := event("default", "default")
	ev.InvolvedObject.UID = "u1"
	ev.InvolvedObject.APIVersion = "v1"
	ev.ReportingController = "kubelet"
	want := fields.Set{
		"metadata.name": "web.17a", "metadata.namespace": "default",
		"involvedObject.kind": "Pod", "involvedObject.namespace": "default", "involvedObject.name": "web",
		"involvedObject.uid": "u1", "involvedObject.apiVersion": "v1", "involvedObject.resourceVersion": "",
		"involvedObject.fieldPath": "", "reason": "Started", "reportingComponent": "kubelet",
		"source": "kubelet", "type": "Normal",
	}
	if got := Strategy().FieldSet(ev); !maps.Equal(got, want) {
		t.Errorf("FieldSet:\n got %v\nwant %v", got, want)
	}
	ev.Source.Component = "default-scheduler"
	if got := FieldSet(ev)["source"]; got != "default-scheduler" {
		t.Errorf("source = %q", got)
	}
}
