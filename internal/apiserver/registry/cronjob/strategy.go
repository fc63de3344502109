// Package cronjob holds the write rules of batch/v1 CronJobs: upstream's
// defaults (Allow, not suspended, 3 successful and 1 failed Jobs kept),
// the schedule checked with the cron parser upstream uses
// (github.com/robfig/cron/v3), the time zone, and upstream's texts.
package cronjob

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
)

// Strategy returns the CronJob strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*batchv1.CronJob]{
		DefaultFunc:                Default,
		PrepareForCreateFunc:       PrepareForCreate,
		PrepareForUpdateFunc:       PrepareForUpdate,
		PrepareForStatusUpdateFunc: PrepareForStatusUpdate,
		ValidateFunc:               Validate,
		ValidateUpdateFunc:         ValidateUpdate,
	}
}

// Default applies upstream's batch/v1 CronJob defaults.
func Default(cj *batchv1.CronJob) {
	s := &cj.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = ptr(int32(3))
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = ptr(int32(1))
	}
	pod.DefaultPodSpec(&s.JobTemplate.Spec.Template.Spec)
}

func ptr[T any](v T) *T { return &v }

// PrepareForCreate clears the status and starts at generation 1.
func PrepareForCreate(_ context.Context, cj *batchv1.CronJob) {
	cj.Status = batchv1.CronJobStatus{}
	cj.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changes.
func PrepareForUpdate(_ context.Context, cj, old *batchv1.CronJob) {
	cj.Status = old.Status
	if !equality.Semantic.DeepEqual(cj.Spec, old.Spec) {
		cj.Generation = old.Generation + 1
	}
}

// PrepareForStatusUpdate keeps the stored spec.
func PrepareForStatusUpdate(_ context.Context, cj, old *batchv1.CronJob) {
	cj.Spec = old.Spec
}
