package cronjob

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// sync reconciles one CronJob: its active list, a Job due now, old
// Jobs, and a wake-up at the next start time.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cj, err := c.cronJobs.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	jobs, err := c.ownedJobs(cj)
	if err != nil {
		return err
	}
	status := c.trackActive(cj, jobs)
	var errs []error
	if cj.DeletionTimestamp == nil {
		errs = append(errs, c.schedule(ctx, cj, &status))
		errs = append(errs, c.cleanup(ctx, cj, jobs, status))
	}
	errs = append(errs, c.writeStatus(ctx, cj, status))
	return errors.Join(errs...)
}

func (c *Controller) ownedJobs(cj *batchv1.CronJob) ([]*batchv1.Job, error) {
	all, err := c.jobs.Jobs(cj.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*batchv1.Job
	for _, j := range all {
		if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.UID == cj.UID {
			out = append(out, j)
		}
	}
	return out, nil
}

// trackActive drops finished and missing Jobs from status.active and
// records the last success.
func (c *Controller) trackActive(cj *batchv1.CronJob, jobs []*batchv1.Job) batchv1.CronJobStatus {
	s := *cj.Status.DeepCopy()
	byUID := map[string]*batchv1.Job{}
	for _, j := range jobs {
		byUID[string(j.UID)] = j
		if !inActive(s.Active, j) && !finished(j) {
			c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "UnexpectedJob", "Saw a job that the controller did not create or forgot: %s", j.Name)
		}
	}
	var active []corev1.ObjectReference
	for _, ref := range s.Active {
		j, ok := byUID[string(ref.UID)]
		switch {
		case !ok:
			c.cfg.Recorder.Eventf(cj, corev1.EventTypeNormal, "MissingJob", "Active job went missing: %v", ref.Name)
		case finished(j):
			c.cfg.Recorder.Eventf(cj, corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, condition: %v", j.Name, finishedType(j))
			if t := j.Status.CompletionTime; finishedType(j) == batchv1.JobComplete && t != nil &&
				(s.LastSuccessfulTime == nil || t.After(s.LastSuccessfulTime.Time)) {
				s.LastSuccessfulTime = t.DeepCopy()
			}
		default:
			active = append(active, ref)
		}
	}
	s.Active = active
	return s
}

// schedule starts the Job due now, if any, and comes back at the next
// start time.
func (c *Controller) schedule(ctx context.Context, cj *batchv1.CronJob, s *batchv1.CronJobStatus) error {
	sched, loc, err := Schedule(cj, c.cfg.Location)
	if err != nil {
		reason := "InvalidSchedule"
		if cj.Spec.TimeZone != nil {
			if _, tzErr := time.LoadLocation(*cj.Spec.TimeZone); tzErr != nil {
				reason = "UnknownTimeZone"
			}
		}
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, reason, "%v", err)
		return nil
	}
	now := c.cfg.Now()
	recent, missed, next := MostRecent(cj, sched, loc, now)
	c.runner.EnqueueAfter(cj.Namespace+"/"+cj.Name, next.Sub(now)+100*time.Millisecond)
	if recent == nil || (cj.Spec.Suspend != nil && *cj.Spec.Suspend) {
		return nil
	}
	if missed > tooManyMissed {
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes",
			"too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew", missed)
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && recent.Add(time.Duration(*d)*time.Second).Before(now) {
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s", recent.UTC().Format(time.RFC1123Z))
		return nil
	}
	return c.start(ctx, cj, s, *recent, loc)
}

// start applies the concurrency policy and creates the Job of t.
func (c *Controller) start(ctx context.Context, cj *batchv1.CronJob, s *batchv1.CronJobStatus, t time.Time, loc *time.Location) error {
	switch {
	case len(s.Active) > 0 && cj.Spec.ConcurrencyPolicy == batchv1.ForbidConcurrent:
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
		return nil
	case len(s.Active) > 0 && cj.Spec.ConcurrencyPolicy == batchv1.ReplaceConcurrent:
		for _, ref := range s.Active {
			if err := c.deleteJob(ctx, cj, ref.Name); err != nil {
				return err
			}
		}
		s.Active = nil
	}
	j, err := c.cfg.Client.BatchV1().Jobs(cj.Namespace).Create(ctx, NewJob(cj, t, loc), metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		if j, err = c.cfg.Client.BatchV1().Jobs(cj.Namespace).Get(ctx, JobName(cj, t), metav1.GetOptions{}); err != nil {
			return err
		}
		if ref := metav1.GetControllerOfNoCopy(j); ref == nil || ref.UID != cj.UID {
			return nil
		}
	case err != nil:
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return err
	default:
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %v", j.Name)
	}
	if !inActive(s.Active, j) && !finished(j) {
		s.Active = append(s.Active, corev1.ObjectReference{Kind: "Job", Namespace: j.Namespace, Name: j.Name,
			UID: j.UID, APIVersion: "batch/v1", ResourceVersion: j.ResourceVersion})
	}
	st := metav1.NewTime(t)
	s.LastScheduleTime = &st
	return nil
}

// NewJob is the CronJob's Job for start time t: the template's labels,
// annotations (with the scheduled timestamp) and spec, and a controller
// reference.
func NewJob(cj *batchv1.CronJob, t time.Time, loc *time.Location) *batchv1.Job {
	tpl := cj.Spec.JobTemplate.DeepCopy()
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: JobName(cj, t), Namespace: cj.Namespace, Labels: tpl.Labels, Annotations: tpl.Annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))},
		},
		Spec: tpl.Spec,
	}
	if j.Annotations == nil {
		j.Annotations = map[string]string{}
	}
	j.Annotations[ScheduledTimestampAnnotation] = t.In(loc).Format(time.RFC3339)
	return j
}

// cleanup deletes the oldest finished Jobs beyond the history limits.
func (c *Controller) cleanup(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job, s batchv1.CronJobStatus) error {
	var ok, failed []*batchv1.Job
	for _, j := range jobs {
		switch finishedType(j) {
		case batchv1.JobComplete:
			ok = append(ok, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	var errs []error
	for _, set := range []struct {
		jobs  []*batchv1.Job
		limit *int32
	}{{ok, cj.Spec.SuccessfulJobsHistoryLimit}, {failed, cj.Spec.FailedJobsHistoryLimit}} {
		for _, j := range beyondLimit(set.jobs, set.limit) {
			errs = append(errs, c.deleteJob(ctx, cj, j.Name))
		}
	}
	return errors.Join(errs...)
}

// beyondLimit returns the oldest jobs (by start time) beyond limit.
func beyondLimit(jobs []*batchv1.Job, limit *int32) []*batchv1.Job {
	if limit == nil || len(jobs) <= int(*limit) {
		return nil
	}
	sort.SliceStable(jobs, func(i, j int) bool { return startOf(jobs[i]).Before(startOf(jobs[j])) })
	return jobs[:len(jobs)-int(*limit)]
}

func startOf(j *batchv1.Job) time.Time {
	if j.Status.StartTime != nil {
		return j.Status.StartTime.Time
	}
	return j.CreationTimestamp.Time
}

func (c *Controller) deleteJob(ctx context.Context, cj *batchv1.CronJob, name string) error {
	bg := metav1.DeletePropagationBackground
	err := c.cfg.Client.BatchV1().Jobs(cj.Namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "FailedDelete", "Deleted job: %v", err)
		return err
	}
	c.cfg.Recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %v", name)
	return nil
}

func (c *Controller) writeStatus(ctx context.Context, cj *batchv1.CronJob, s batchv1.CronJobStatus) error {
	if apiequality.Semantic.DeepEqual(cj.Status, s) {
		return nil
	}
	cp := cj.DeepCopy()
	cp.Status = s
	_, err := c.cfg.Client.BatchV1().CronJobs(cj.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update status of cronjob %s/%s: %w", cj.Namespace, cj.Name, err)
	}
	return nil
}

func inActive(active []corev1.ObjectReference, j *batchv1.Job) bool {
	for _, r := range active {
		if r.UID == j.UID {
			return true
		}
	}
	return false
}

func finished(j *batchv1.Job) bool { return finishedType(j) != "" }

func finishedType(j *batchv1.Job) batchv1.JobConditionType {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type
		}
	}
	return ""
}
