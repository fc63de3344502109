package app

import (
	"context"
	"fmt"

	"k8s.io/client-go/dynamic"

	"github.com/svcplane/svcplane/internal/controller/deployment"
	"github.com/svcplane/svcplane/internal/controller/gc"
	"github.com/svcplane/svcplane/internal/controller/lbipam"
	"github.com/svcplane/svcplane/internal/controller/namespace"
	"github.com/svcplane/svcplane/internal/controller/nodeipam"
	"github.com/svcplane/svcplane/internal/controller/nodelifecycle"
	"github.com/svcplane/svcplane/internal/controller/replicaset"
	"github.com/svcplane/svcplane/internal/controller/scheduler"
	"github.com/svcplane/svcplane/internal/controller/serviceaccount"
	"github.com/svcplane/svcplane/internal/controller/tainteviction"
)

// workloadControllers builds the Deployment, ReplicaSet,
// ReplicationController, scheduler,
// garbage collector, namespace, node lifecycle/IPAM, serviceaccount and
// LoadBalancer controllers.
func workloadControllers(d controllerDeps) ([]namedRun, error) {
	dyn, err := dynamic.NewForConfig(d.RESTConfig)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	var runs []namedRun
	for _, build := range []func(controllerDeps, dynamic.Interface) (namedRun, error){
		replicaSetController, replicationController, deploymentController, schedulerController, gcController,
		namespaceController, nodeIPAMController, nodeLifecycleController, serviceAccountController,
		daemonSetController, statefulSetController, jobController, cronJobController,
		taintEvictionController, disruptionController,
	} {
		r, err := build(d, dyn)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	if d.Settings.LoadBalancerIPRange == "" {
		return runs, nil
	}
	lb, err := lbController(d)
	if err != nil {
		return nil, err
	}
	return append(runs, lb), nil
}

// runWith adapts a Run(ctx, workers) method.
func runWith(run func(context.Context, int), workers int) runFunc {
	return func(ctx context.Context) { run(ctx, workers) }
}

func replicaSetController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	c, err := replicaset.New(replicaset.Config{
		Client: d.Client, ReplicaSets: d.Informers.Apps().V1().ReplicaSets(), Pods: d.Informers.Core().V1().Pods(),
		Recorder: d.Recorder(replicaset.Name), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: replicaset.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}

// replicationController is the ReplicaSet controller over
// ReplicationControllers.
func replicationController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	c, err := replicaset.New(replicaset.Config{
		Client: d.Client, Kind: replicaset.ReplicationControllers(d.Client, d.Informers.Core().V1().ReplicationControllers()),
		Name: replicaset.RCName, Pods: d.Informers.Core().V1().Pods(), Recorder: d.Recorder(replicaset.RCName), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: replicaset.RCName, run: runWith(c.Run, d.Settings.Workers)}, nil
}

func deploymentController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	c, err := deployment.New(deployment.Config{
		Client: d.Client, Deployments: d.Informers.Apps().V1().Deployments(), ReplicaSets: d.Informers.Apps().V1().ReplicaSets(),
		Pods: d.Informers.Core().V1().Pods(), Recorder: d.Recorder(deployment.Name), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: deployment.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}

func schedulerController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	c, err := scheduler.New(scheduler.Config{
		Client: d.Client, Pods: d.Informers.Core().V1().Pods(), Nodes: d.Informers.Core().V1().Nodes(),
		Claims: d.Informers.Core().V1().PersistentVolumeClaims(), Volumes: d.Informers.Core().V1().PersistentVolumes(),
		Classes: d.Informers.Storage().V1().StorageClasses(), Recorder: d.Recorder(scheduler.Name), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: scheduler.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}

func gcController(d controllerDeps, dyn dynamic.Interface) (namedRun, error) {
	c := gc.New(gc.Config{Discovery: d.Client.Discovery(), Dynamic: dyn, Informers: d.Informers, Logger: d.Logger})
	return namedRun{name: gc.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}

func namespaceController(d controllerDeps, dyn dynamic.Interface) (namedRun, error) {
	c, err := namespace.New(namespace.Config{
		Client: d.Client, Discovery: d.Client.Discovery(), Dynamic: dyn,
		Namespaces: d.Informers.Core().V1().Namespaces(), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: namespace.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}

func serviceAccountController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	c, err := serviceaccount.New(serviceaccount.Config{
		Client: d.Client, Namespaces: d.Informers.Core().V1().Namespaces(),
		ServiceAccounts: d.Informers.Core().V1().ServiceAccounts(), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: serviceaccount.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}

func nodeIPAMController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	c, err := nodeipam.New(nodeipam.Config{
		Client: d.Client, Nodes: d.Informers.Core().V1().Nodes(), Recorder: d.Recorder(nodeipam.EventSource),
		Logger: d.Logger, ClusterCIDR: d.Settings.PodCIDR, NodeMaskSize: d.Settings.NodeCIDRMaskSize,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: nodeipam.Name, run: runWith(c.Run, 1)}, nil
}

func nodeLifecycleController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	c, err := nodelifecycle.New(nodelifecycle.Config{
		Client: d.Client, Nodes: d.Informers.Core().V1().Nodes(), Leases: d.Informers.Coordination().V1().Leases(),
		Pods: d.Informers.Core().V1().Pods(), Recorder: d.Recorder(nodelifecycle.EventSource), Logger: d.Logger,
		GracePeriod: d.Settings.NodeMonitorGracePeriod, MonitorPeriod: d.Settings.NodeMonitorPeriod,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: nodelifecycle.Name, run: c.Run}, nil
}

func taintEvictionController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	c, err := tainteviction.New(tainteviction.Config{
		Client: d.Client, Nodes: d.Informers.Core().V1().Nodes(), Pods: d.Informers.Core().V1().Pods(),
		Recorder: d.Recorder(tainteviction.Name), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: tainteviction.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}

func lbController(d controllerDeps) (namedRun, error) {
	c, err := lbipam.New(lbipam.Config{
		Client: d.Client, Services: d.Informers.Core().V1().Services(), Recorder: d.Recorder(lbipam.EventSource),
		Logger: d.Logger, Range: d.Settings.LoadBalancerIPRange,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: lbipam.Name, run: runWith(c.Run, 1)}, nil
}
