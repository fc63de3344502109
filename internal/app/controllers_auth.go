package app

import (
	"github.com/svcplane/svcplane/internal/controller/clusterroleaggregation"
)

// authControllers builds the ClusterRole aggregation controller.
func authControllers(d controllerDeps) ([]namedRun, error) {
	c, err := clusterroleaggregation.New(clusterroleaggregation.Config{
		Client: d.Client, ClusterRoles: d.Informers.Rbac().V1().ClusterRoles(), Logger: d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return []namedRun{{name: clusterroleaggregation.Name, run: runWith(c.Run, 1)}}, nil
}
