// Package cronjob is the CronJob controller (batch/v1): at each start
// time of a CronJob's schedule (github.com/robfig/cron/v3, in
// spec.timeZone) it creates a Job named <cronjob>-<minutes> from the job
// template, unless suspended, too late for startingDeadlineSeconds, or
// held back by concurrencyPolicy (Forbid skips while a run is active,
// Replace deletes it first); it keeps status.active, lastScheduleTime
// and lastSuccessfulTime, and deletes finished Jobs beyond the history
// limits. Jobs made by `kubectl create job --from=cronjob/...` are owned
// but never active, as upstream.
package cronjob

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name, also the source of its events.
const Name = "cronjob-controller"

// ScheduledTimestampAnnotation holds a Job's start time in RFC 3339.
const ScheduledTimestampAnnotation = batchv1.CronJobScheduledTimestampAnnotation

// Config configures the controller.
type Config struct {
	Client   kubernetes.Interface
	CronJobs batchinformers.CronJobInformer
	Jobs     batchinformers.JobInformer
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now. Location is the zone of
	// CronJobs without spec.timeZone; nil means time.Local.
	Now      func() time.Time
	Location *time.Location
}

// Controller is the CronJob controller.
type Controller struct {
	cfg      Config
	cronJobs batchlisters.CronJobLister
	jobs     batchlisters.JobLister
	runner   *controller.Runner
	synced   []cache.InformerSynced
	log      *slog.Logger
}

// New builds the controller and registers its event handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	c := &Controller{cfg: cfg, cronJobs: cfg.CronJobs.Lister(), jobs: cfg.Jobs.Lister(), log: cfg.Logger,
		synced: []cache.InformerSynced{cfg.CronJobs.Informer().HasSynced, cfg.Jobs.Informer().HasSynced}}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	if _, err := cfg.CronJobs.Informer().AddEventHandler(c.runner.ObjectHandlers()); err != nil {
		return nil, fmt.Errorf("cronjob controller handlers: %w", err)
	}
	_, err := cfg.Jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.jobEvent,
		UpdateFunc: func(_, cur any) { c.jobEvent(cur) },
		DeleteFunc: c.jobEvent,
	})
	if err != nil {
		return nil, fmt.Errorf("cronjob controller handlers: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

func (c *Controller) jobEvent(obj any) {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if j, ok = tomb.Obj.(*batchv1.Job); !ok {
			return
		}
	}
	if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.Kind == "CronJob" {
		c.runner.Enqueue(j.Namespace + "/" + ref.Name)
	}
}
