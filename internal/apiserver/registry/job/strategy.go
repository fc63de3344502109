// Package job holds the write and read rules of batch/v1 Jobs:
// upstream's batch/v1 defaults, the generated selector and pod labels
// (batch.kubernetes.io/controller-uid and job-name, with their legacy
// forms), validation with upstream's field error texts, and the status
// handling of its strategy.
package job

import (
	"context"
	"math"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
)

// The labels the API server gives a Job's pod template, and the selector
// is generated from, unless spec.manualSelector is set.
const (
	ControllerUIDLabel       = "batch.kubernetes.io/controller-uid"
	JobNameLabel             = "batch.kubernetes.io/job-name"
	LegacyControllerUIDLabel = "controller-uid"
	LegacyJobNameLabel       = "job-name"
)

// Strategy returns the Job strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*batchv1.Job]{
		DefaultFunc:                Default,
		PrepareForCreateFunc:       PrepareForCreate,
		PrepareForUpdateFunc:       PrepareForUpdate,
		PrepareForStatusUpdateFunc: PrepareForStatusUpdate,
		ValidateFunc:               Validate,
		ValidateUpdateFunc:         ValidateUpdate,
		ValidateStatusUpdateFunc:   ValidateStatusUpdate,
		FieldSetFunc:               FieldSet,
	}
}

// Default applies upstream's batch/v1 defaults: one completion and one
// pod at a time unless set, 6 retries, NonIndexed, not suspended, pods
// replaced once terminating or failed, and the Job's labels from its
// template when it has none.
func Default(j *batchv1.Job) {
	spec := &j.Spec
	if spec.Completions == nil && spec.Parallelism == nil {
		spec.Completions, spec.Parallelism = ptr(int32(1)), ptr(int32(1))
	}
	if spec.Parallelism == nil {
		spec.Parallelism = ptr(int32(1))
	}
	if spec.BackoffLimit == nil {
		spec.BackoffLimit = ptr(int32(6))
		if spec.BackoffLimitPerIndex != nil {
			spec.BackoffLimit = ptr(int32(math.MaxInt32))
		}
	}
	if len(j.Labels) == 0 {
		j.Labels = spec.Template.Labels
	}
	if spec.CompletionMode == nil {
		spec.CompletionMode = ptr(batchv1.NonIndexedCompletion)
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr(false)
	}
	if spec.PodReplacementPolicy == nil {
		spec.PodReplacementPolicy = ptr(batchv1.TerminatingOrFailed)
		if spec.PodFailurePolicy != nil {
			spec.PodReplacementPolicy = ptr(batchv1.Failed)
		}
	}
	pod.DefaultPodSpec(&spec.Template.Spec)
}

func ptr[T any](v T) *T { return &v }

// PrepareForCreate clears the status, starts at generation 1 and
// generates the selector and template labels.
func PrepareForCreate(_ context.Context, j *batchv1.Job) {
	j.Status = batchv1.JobStatus{}
	j.Generation = 1
	GenerateSelector(j)
}

// GenerateSelector labels the template with the Job's UID and name and
// selects on the UID, unless spec.manualSelector is set.
func GenerateSelector(j *batchv1.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	l := j.Spec.Template.Labels
	for k, v := range map[string]string{ControllerUIDLabel: string(j.UID), JobNameLabel: j.Name,
		LegacyControllerUIDLabel: string(j.UID), LegacyJobNameLabel: j.Name} {
		if _, ok := l[k]; !ok {
			l[k] = v
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{ControllerUIDLabel: string(j.UID)}}
	}
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changes.
func PrepareForUpdate(_ context.Context, j, old *batchv1.Job) {
	j.Status = old.Status
	if !equality.Semantic.DeepEqual(j.Spec, old.Spec) {
		j.Generation = old.Generation + 1
	}
}

// PrepareForStatusUpdate keeps the stored spec.
func PrepareForStatusUpdate(_ context.Context, j, old *batchv1.Job) {
	j.Spec = old.Spec
}

// FieldSet adds status.successful to the metadata fields, as upstream.
func FieldSet(j *batchv1.Job) fields.Set {
	set := registry.MetaFieldSet(j)
	set["status.successful"] = itoa(j.Status.Succeeded)
	return set
}
