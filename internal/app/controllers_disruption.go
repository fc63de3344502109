package app

import (
	"k8s.io/client-go/dynamic"

	"github.com/svcplane/svcplane/internal/controller/disruption"
)

// disruptionController keeps PodDisruptionBudgets' status, which the
// pods/eviction subresource reads.
func disruptionController(d controllerDeps, _ dynamic.Interface) (namedRun, error) {
	apps, core := d.Informers.Apps().V1(), d.Informers.Core().V1()
	c, err := disruption.New(disruption.Config{
		Client: d.Client, Budgets: d.Informers.Policy().V1().PodDisruptionBudgets(), Pods: core.Pods(),
		ReplicaSets: apps.ReplicaSets(), Deployments: apps.Deployments(), StatefulSets: apps.StatefulSets(),
		RCs: core.ReplicationControllers(), Recorder: d.Recorder(disruption.Name), Logger: d.Logger,
	})
	if err != nil {
		return namedRun{}, err
	}
	return namedRun{name: disruption.Name, run: runWith(c.Run, d.Settings.Workers)}, nil
}
