package namespace

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// Outcome is what one pass of deleting a namespace's content found.
type Outcome struct {
	DiscoveryErr error
	DeleteErrs   []error
	// Remaining counts objects left per resource ("pods.", "deployments.apps").
	Remaining map[string]int
	// Finalizers counts objects left per finalizer.
	Finalizers map[string]int
}

// Done says whether the namespace is empty and may be finalized.
func (o Outcome) Done() bool {
	return o.DiscoveryErr == nil && len(o.DeleteErrs) == 0 && len(o.Remaining) == 0
}

// okConditions are the deletion conditions when all is well, as upstream
// words them.
var okConditions = []corev1.NamespaceCondition{
	{Type: corev1.NamespaceDeletionDiscoveryFailure, Reason: "ResourcesDiscovered", Message: "All resources successfully discovered"},
	{Type: corev1.NamespaceDeletionGVParsingFailure, Reason: "ParsedGroupVersions", Message: "All legacy kube types successfully parsed"},
	{Type: corev1.NamespaceDeletionContentFailure, Reason: "ContentDeleted", Message: "All content successfully deleted, may be waiting on finalization"},
	{Type: corev1.NamespaceContentRemaining, Reason: "ContentRemoved", Message: "All content successfully removed"},
	{Type: corev1.NamespaceFinalizersRemaining, Reason: "ContentHasNoFinalizers", Message: "All content-preserving finalizers finished"},
}

// Conditions are the five deletion conditions for an outcome: True with
// what went wrong, else False with upstream's all-clear texts.
func Conditions(o Outcome) []corev1.NamespaceCondition {
	bad := map[corev1.NamespaceConditionType][2]string{}
	if o.DiscoveryErr != nil {
		bad[corev1.NamespaceDeletionDiscoveryFailure] = [2]string{"DiscoveryFailed", "Discovery failed for some groups, " + o.DiscoveryErr.Error()}
	}
	if len(o.DeleteErrs) > 0 {
		bad[corev1.NamespaceDeletionContentFailure] = [2]string{"ContentDeletionFailed",
			fmt.Sprintf("Failed to delete all resource types, %d remaining: %v", len(o.DeleteErrs), utilerrors.NewAggregate(o.DeleteErrs))}
	}
	if len(o.Remaining) > 0 {
		bad[corev1.NamespaceContentRemaining] = [2]string{"SomeResourcesRemain",
			"Some resources are remaining: " + counts(o.Remaining, "%s has %d resource instances")}
	}
	if len(o.Finalizers) > 0 {
		bad[corev1.NamespaceFinalizersRemaining] = [2]string{"SomeFinalizersRemain",
			"Some content in the namespace has finalizers remaining: " + counts(o.Finalizers, "%s in %d resource instances")}
	}
	out := make([]corev1.NamespaceCondition, len(okConditions))
	for i, c := range okConditions {
		c.Status = corev1.ConditionFalse
		if b, ok := bad[c.Type]; ok {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, b[0], b[1]
		}
		out[i] = c
	}
	return out
}

func counts(m map[string]int, format string) string {
	items := make([]string, 0, len(m))
	for k, n := range m {
		items = append(items, fmt.Sprintf(format, k, n))
	}
	sort.Strings(items)
	return strings.Join(items, ", ")
}

// MergeConditions puts want into have: a condition whose status is
// unchanged keeps its transition time. It says whether anything changed.
func MergeConditions(have []corev1.NamespaceCondition, want []corev1.NamespaceCondition, now time.Time) ([]corev1.NamespaceCondition, bool) {
	byType := map[corev1.NamespaceConditionType]corev1.NamespaceCondition{}
	for _, c := range have {
		byType[c.Type] = c
	}
	changed := len(have) != len(want)
	out := make([]corev1.NamespaceCondition, len(want))
	for i, c := range want {
		c.LastTransitionTime = metav1.NewTime(now)
		cur, ok := byType[c.Type]
		if ok && cur.Status == c.Status {
			c.LastTransitionTime = cur.LastTransitionTime
		}
		if !ok || cur.Status != c.Status || cur.Reason != c.Reason || cur.Message != c.Message {
			changed = true
		}
		out[i] = c
	}
	return out, changed
}

// RetryDelay is how long to wait before looking again at a namespace that
// still has content: one second at first, then a quarter of the time it
// has been terminating, at most fifteen seconds.
func RetryDelay(deleted, now time.Time) time.Duration {
	return min(max(now.Sub(deleted)/4, time.Second), 15*time.Second)
}
