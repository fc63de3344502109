package job

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TrackingFinalizer holds a Job's finished pods until the controller has
// counted them in the Job's status.
const TrackingFinalizer = batchv1.JobTrackingFinalizer

// CompletionIndexKey is the annotation and label of an Indexed Job's pod
// index, and JOB_COMPLETION_INDEX the variable it is read into.
const CompletionIndexKey = batchv1.JobCompletionIndexAnnotation

// NewPod is a pod of j: the template (whose labels the API server set),
// the tracking finalizer, a controller reference and the prefix "<job>-";
// index >= 0 makes it an Indexed Job's pod: prefix "<job>-<index>-",
// hostname "<job>-<index>", the index annotation and label, and
// JOB_COMPLETION_INDEX in every container.
func NewPod(j *batchv1.Job, index int) *corev1.Pod {
	t := j.Spec.Template.DeepCopy()
	p := &corev1.Pod{ObjectMeta: t.ObjectMeta, Spec: t.Spec}
	p.Namespace, p.Name = j.Namespace, ""
	p.GenerateName = j.Name + "-"
	p.Finalizers = append(p.Finalizers, TrackingFinalizer)
	p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(j, batchv1.SchemeGroupVersion.WithKind("Job"))}
	if index < 0 {
		return p
	}
	idx := strconv.Itoa(index)
	p.GenerateName = fmt.Sprintf("%s-%d-", j.Name, index)
	p.Spec.Hostname = fmt.Sprintf("%s-%d", j.Name, index)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Annotations[CompletionIndexKey], p.Labels[CompletionIndexKey] = idx, idx
	env := corev1.EnvVar{Name: "JOB_COMPLETION_INDEX", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
		FieldPath: fmt.Sprintf("metadata.labels['%s']", CompletionIndexKey)}}}
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].Env = append(p.Spec.Containers[i].Env, env)
	}
	for i := range p.Spec.InitContainers {
		p.Spec.InitContainers[i].Env = append(p.Spec.InitContainers[i].Env, env)
	}
	return p
}

// indexOf reads a pod's completion index, -1 when it has none.
func indexOf(p *corev1.Pod) int {
	v, ok := p.Annotations[CompletionIndexKey]
	if !ok {
		v = p.Labels[CompletionIndexKey]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// isIndexed says whether j's completion mode is Indexed.
func isIndexed(j *batchv1.Job) bool {
	return j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion
}

func hasFinalizer(p *corev1.Pod) bool {
	for _, f := range p.Finalizers {
		if f == TrackingFinalizer {
			return true
		}
	}
	return false
}

func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// parseIndexes reads "1,3-5" into a set.
func parseIndexes(s string) map[int]bool {
	out := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out
}

// formatIndexes writes a set as "1,3-5", ranges of three or more
// collapsed as upstream's completedIndexes.
func formatIndexes(set map[int]bool) string {
	var idx []int
	for i := range set {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(idx[i]))
		case j == i+1:
			parts = append(parts, strconv.Itoa(idx[i]), strconv.Itoa(idx[j]))
		default:
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
