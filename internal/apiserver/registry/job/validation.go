package job

import (
	"context"
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
)

// maxIndexed caps completions and parallelism of Indexed Jobs.
const maxIndexed = 100000

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// Validate checks a new Job: the generated selector, then the spec.
func Validate(_ context.Context, j *batchv1.Job) field.ErrorList {
	errs := validateGeneratedSelector(j)
	return append(errs, validateSpecWithSelector(&j.Spec, field.NewPath("spec"))...)
}

// validateGeneratedSelector checks that a generated selector and the
// template labels name this Job.
func validateGeneratedSelector(j *batchv1.Job) field.ErrorList {
	if (j.Spec.ManualSelector != nil && *j.Spec.ManualSelector) || j.Spec.Selector == nil {
		return nil
	}
	var errs field.ErrorList
	if j.UID == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "uid"), ""))
	}
	tp := field.NewPath("spec", "template", "metadata")
	want := map[string]string{ControllerUIDLabel: string(j.UID), JobNameLabel: j.Name}
	for _, k := range []string{ControllerUIDLabel, JobNameLabel} {
		if got, ok := j.Spec.Template.Labels[k]; !ok {
			errs = append(errs, field.Required(tp.Child("labels").Key(k), fmt.Sprintf("must be '%s'", want[k])))
		} else if got != want[k] {
			errs = append(errs, field.Invalid(tp.Child("labels").Key(k), got, fmt.Sprintf("must be '%s'", want[k])))
		}
	}
	if sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil && !sel.Matches(labels.Set(want)) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "selector"), j.Spec.Selector, "`selector` not auto-generated"))
	}
	return errs
}

func validateSpecWithSelector(spec *batchv1.JobSpec, p *field.Path) field.ErrorList {
	errs := ValidateSpec(spec, p)
	if spec.Selector == nil {
		errs = append(errs, field.Required(p.Child("selector"), ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	if sel, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !sel.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(p.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	return errs
}

// ValidateSpec checks a Job spec without its selector, as a CronJob's
// job template is checked too.
func ValidateSpec(spec *batchv1.JobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, c := range []struct {
		name string
		v    *int32
	}{{"parallelism", spec.Parallelism}, {"completions", spec.Completions}, {"backoffLimit", spec.BackoffLimit},
		{"ttlSecondsAfterFinished", spec.TTLSecondsAfterFinished}} {
		if c.v != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*c.v), p.Child(c.name))...)
		}
	}
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*spec.ActiveDeadlineSeconds, p.Child("activeDeadlineSeconds"))...)
	}
	errs = append(errs, validateCompletionMode(spec, p)...)
	errs = append(errs, pod.ValidatePodTemplateSpec(&spec.Template, p.Child("template"))...)
	if rp := spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever {
		errs = append(errs, field.NotSupported(p.Child("template", "spec", "restartPolicy"), rp,
			[]string{string(corev1.RestartPolicyOnFailure), string(corev1.RestartPolicyNever)}))
	}
	if spec.PodFailurePolicy != nil && spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		errs = append(errs, field.Invalid(p.Child("template", "spec", "restartPolicy"), spec.Template.Spec.RestartPolicy,
			fmt.Sprintf("only %q is supported when podFailurePolicy is specified", corev1.RestartPolicyNever)))
	}
	return errs
}

func validateCompletionMode(spec *batchv1.JobSpec, p *field.Path) field.ErrorList {
	if spec.CompletionMode == nil {
		return nil
	}
	switch *spec.CompletionMode {
	case batchv1.NonIndexedCompletion:
		return nil
	case batchv1.IndexedCompletion:
	default:
		return field.ErrorList{field.NotSupported(p.Child("completionMode"), *spec.CompletionMode,
			[]string{string(batchv1.NonIndexedCompletion), string(batchv1.IndexedCompletion)})}
	}
	var errs field.ErrorList
	if spec.Completions == nil {
		errs = append(errs, field.Required(p.Child("completions"), fmt.Sprintf("when completion mode is %s", batchv1.IndexedCompletion)))
	} else if *spec.Completions > maxIndexed {
		errs = append(errs, field.Invalid(p.Child("completions"), *spec.Completions,
			fmt.Sprintf("must be less than or equal to %d when completion mode is %s", maxIndexed, batchv1.IndexedCompletion)))
	}
	if spec.Parallelism != nil && *spec.Parallelism > maxIndexed {
		errs = append(errs, field.Invalid(p.Child("parallelism"), *spec.Parallelism,
			fmt.Sprintf("must be less than or equal to %d when completion mode is %s", maxIndexed, batchv1.IndexedCompletion)))
	}
	return errs
}

// ValidateUpdate checks an update: the selector, completion mode and
// template may not change, nor completions except for an Indexed Job
// scaled with parallelism equal to completions (elastic Indexed Jobs).
func ValidateUpdate(ctx context.Context, j, old *batchv1.Job) field.ErrorList {
	p := field.NewPath("spec")
	errs := validateSpecWithSelector(&j.Spec, p)
	errs = append(errs, apivalidation.ValidateImmutableField(j.Spec.Selector, old.Spec.Selector, p.Child("selector"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(j.Spec.CompletionMode, old.Spec.CompletionMode, p.Child("completionMode"))...)
	if !elasticScale(j, old) {
		errs = append(errs, apivalidation.ValidateImmutableField(j.Spec.Completions, old.Spec.Completions, p.Child("completions"))...)
	}
	return append(errs, apivalidation.ValidateImmutableField(j.Spec.Template, old.Spec.Template, p.Child("template"))...)
}

func elasticScale(j, old *batchv1.Job) bool {
	s := j.Spec
	return s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion &&
		s.Completions != nil && s.Parallelism != nil && *s.Completions == *s.Parallelism
}

// ValidateStatusUpdate checks the counters of a status write.
func ValidateStatusUpdate(_ context.Context, j, _ *batchv1.Job) field.ErrorList {
	p, s := field.NewPath("status"), &j.Status
	var errs field.ErrorList
	for _, c := range []struct {
		name string
		n    int32
	}{{"active", s.Active}, {"succeeded", s.Succeeded}, {"failed", s.Failed}} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(c.n), p.Child(c.name))...)
	}
	if s.Ready != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.Ready), p.Child("ready"))...)
	}
	if s.Terminating != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.Terminating), p.Child("terminating"))...)
	}
	return errs
}
