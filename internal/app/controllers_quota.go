package app

import (
	"github.com/svcplane/svcplane/internal/controller/resourcequota"
)

// quotaControllers builds the resourcequota controller.
func quotaControllers(d controllerDeps) ([]namedRun, error) {
	c, err := resourcequota.New(resourcequota.Config{Client: d.Client, Informer: d.Informers.Core().V1(), Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	return []namedRun{{name: resourcequota.Name, run: runWith(c.Run, d.Settings.Workers)}}, nil
}
