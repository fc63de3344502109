package app

import (
	"k8s.io/client-go/dynamic"

	"github.com/svcplane/svcplane/internal/controller/cronjob"
	"github.com/svcplane/svcplane/internal/controller/daemonset"
	"github.com/svcplane/svcplane/internal/controller/job"
	"github.com/svcplane/svcplane/internal/controller/statefulset"
)

// The DaemonSet, StatefulSet, Job and CronJob controllers.

func daemonSetController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	apps := d.Informers.Apps().V1()
	c, err := daemonset.New(daemonset.Config{
		Client: d.Client, DaemonSets: apps.DaemonSets(), Revisions: apps.ControllerRevisions(),
		Pods: d.Informers.Core().V1().Pods(), Nodes: d.Informers.Core().V1().Nodes(),
		Recorder: d.Recorder(daemonset.Name), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: daemonset.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}

func statefulSetController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	apps := d.Informers.Apps().V1()
	c, err := statefulset.New(statefulset.Config{
		Client: d.Client, StatefulSets: apps.StatefulSets(), Revisions: apps.ControllerRevisions(),
		Pods: d.Informers.Core().V1().Pods(), Recorder: d.Recorder(statefulset.Name), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: statefulset.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}

func jobController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	c, err := job.New(job.Config{
		Client: d.Client, Jobs: d.Informers.Batch().V1().Jobs(), Pods: d.Informers.Core().V1().Pods(),
		Recorder: d.Recorder(job.Name), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: job.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}

func cronJobController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	c, err := cronjob.New(cronjob.Config{
		Client: d.Client, CronJobs: d.Informers.Batch().V1().CronJobs(), Jobs: d.Informers.Batch().V1().Jobs(),
		Recorder: d.Recorder(cronjob.Name), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: cronjob.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}
