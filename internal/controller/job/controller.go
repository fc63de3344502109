// Package job is the Job controller (batch/v1): it runs a Job's pods
// towards spec.completions successes with at most spec.parallelism at a
// time (NonIndexed, or Indexed with one success per index), replaces
// failed pods after a doubling back-off, fails the Job past backoffLimit
// or activeDeadlineSeconds, suspends and resumes it, tracks finished
// pods with the batch.kubernetes.io/job-tracking finalizer
// (uncountedTerminatedPods, then the counters), writes the 1.32
// conditions (FailureTarget or SuccessCriteriaMet, then Failed or
// Complete once no pod runs), and deletes finished Jobs after
// ttlSecondsAfterFinished (the TTL-after-finished controller's work).
//
// Decide (plan.go) is the pure core; controller.go and sync.go are the
// plumbing.
package job

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
	"github.com/svcplane/svcplane/internal/controller/replicaset"
)

// Name is the controller's name, also the source of its events.
const Name = "job-controller"

// orphanPrefix marks the keys of pods whose Job is gone but whose
// tracking finalizer is still on.
const orphanPrefix = "pod:"

// Config configures the controller.
type Config struct {
	Client   kubernetes.Interface
	Jobs     batchinformers.JobInformer
	Pods     coreinformers.PodInformer
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Controller is the Job controller.
type Controller struct {
	cfg    Config
	jobs   batchlisters.JobLister
	pods   corelisters.PodLister
	exp    *replicaset.Expectations
	runner *controller.Runner
	synced []cache.InformerSynced
	log    *slog.Logger
}

// New builds the controller and registers its event handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Controller{
		cfg: cfg, jobs: cfg.Jobs.Lister(), pods: cfg.Pods.Lister(), exp: replicaset.NewExpectations(cfg.Now), log: cfg.Logger,
		synced: []cache.InformerSynced{cfg.Jobs.Informer().HasSynced, cfg.Pods.Informer().HasSynced},
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	if _, err := cfg.Jobs.Informer().AddEventHandler(c.runner.ObjectHandlers()); err != nil {
		return nil, fmt.Errorf("job controller handlers: %w", err)
	}
	_, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.podEvent(obj, true) },
		UpdateFunc: func(_, cur any) { c.podEvent(cur, false) },
		DeleteFunc: func(obj any) { c.podEvent(obj, false) },
	})
	if err != nil {
		return nil, fmt.Errorf("job controller handlers: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

// podEvent wakes the pod's Job; a pod whose Job is gone but which still
// holds the tracking finalizer is queued to be released.
func (c *Controller) podEvent(obj any, added bool) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if pod, ok = tomb.Obj.(*corev1.Pod); !ok {
			return
		}
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		c.enqueueMatching(pod)
		return
	}
	if ref.Kind != "Job" {
		return
	}
	j, err := c.jobs.Jobs(pod.Namespace).Get(ref.Name)
	if err != nil || j.UID != ref.UID {
		if hasFinalizer(pod) {
			c.runner.Enqueue(orphanPrefix + pod.Namespace + "/" + pod.Name)
		}
		return
	}
	key := j.Namespace + "/" + j.Name
	if added {
		c.exp.CreationObserved(key)
	}
	c.runner.Enqueue(key)
}

// enqueueMatching queues the Jobs whose selector matches an orphan pod,
// which may adopt it.
func (c *Controller) enqueueMatching(pod *corev1.Pod) {
	jobs, err := c.jobs.Jobs(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, j := range jobs {
		if sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
			c.runner.Enqueue(j.Namespace + "/" + j.Name)
		}
	}
}

func isOrphanKey(key string) (string, bool) { return strings.CutPrefix(key, orphanPrefix) }
