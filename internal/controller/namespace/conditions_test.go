package namespace

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func render(conds []corev1.NamespaceCondition) string {
	var out []string
	for _, c := range conds {
		out = append(out, fmt.Sprintf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(out, "\n")
}

func TestConditions(t *testing.T) {
	cases := []struct {
		name    string
		outcome Outcome
		want    string
		done    bool
	}{
		{"clean", Outcome{}, `NamespaceDeletionDiscoveryFailure=False ResourcesDiscovered: All resources successfully discovered
NamespaceDeletionGroupVersionParsingFailure=False ParsedGroupVersions: All legacy kube types successfully parsed
NamespaceDeletionContentFailure=False ContentDeleted: All content successfully deleted, may be waiting on finalization
NamespaceContentRemaining=False ContentRemoved: All content successfully removed
NamespaceFinalizersRemaining=False ContentHasNoFinalizers: All content-preserving finalizers finished`, true},
		{"remaining", Outcome{Remaining: map[string]int{"pods.": 2, "deployments.apps": 1}, Finalizers: map[string]int{"example.com/x": 1}},
			`NamespaceDeletionDiscoveryFailure=False ResourcesDiscovered: All resources successfully discovered
NamespaceDeletionGroupVersionParsingFailure=False ParsedGroupVersions: All legacy kube types successfully parsed
NamespaceDeletionContentFailure=False ContentDeleted: All content successfully deleted, may be waiting on finalization
NamespaceContentRemaining=True SomeResourcesRemain: Some resources are remaining: deployments.apps has 1 resource instances, pods. has 2 resource instances
NamespaceFinalizersRemaining=True SomeFinalizersRemain: Some content in the namespace has finalizers remaining: example.com/x in 1 resource instances`, false},
		{"errors", Outcome{DeleteErrs: []error{errors.New("boom")}},
			`NamespaceDeletionDiscoveryFailure=False ResourcesDiscovered: All resources successfully discovered
NamespaceDeletionGroupVersionParsingFailure=False ParsedGroupVersions: All legacy kube types successfully parsed
NamespaceDeletionContentFailure=True ContentDeletionFailed: Failed to delete all resource types, 1 remaining: boom
NamespaceContentRemaining=False ContentRemoved: All content successfully removed
NamespaceFinalizersRemaining=False ContentHasNoFinalizers: All content-preserving finalizers finished`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(Conditions(tc.outcome)); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if tc.outcome.Done() != tc.done {
				t.Errorf("done %v", tc.outcome.Done())
			}
		})
	}
}

func TestMergeConditions(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	first, changed := MergeConditions(nil, Conditions(Outcome{Remaining: map[string]int{"pods.": 1}}), t0)
	if !changed || !first[3].LastTransitionTime.Time.Equal(t0) {
		t.Fatal("first write")
	}
	again, changed := MergeConditions(first, Conditions(Outcome{Remaining: map[string]int{"pods.": 1}}), t0.Add(time.Minute))
	if changed || !again[0].LastTransitionTime.Time.Equal(t0) {
		t.Error("unchanged conditions rewritten")
	}
	cleared, changed := MergeConditions(again, Conditions(Outcome{}), t0.Add(time.Minute))
	if !changed || !cleared[3].LastTransitionTime.Time.Equal(t0.Add(time.Minute)) || !cleared[0].LastTransitionTime.Time.Equal(t0) {
		t.Error("transition times")
	}
}

func TestRetryDelay(t *testing.T) {
	t0 := time.Now()
	for _, tc := range []struct{ age, want time.Duration }{{0, time.Second}, {20 * time.Second, 5 * time.Second}, {time.Hour, 15 * time.Second}} {
		if got := RetryDelay(t0, t0.Add(tc.age)); got != tc.want {
			t.Errorf("age %v: got %v, want %v", tc.age, got, tc.want)
		}
	}
}
