package app

import (
	"github.com/svcplane/svcplane/internal/controller/endpoints"
	"github.com/svcplane/svcplane/internal/controller/endpointslice"
	"github.com/svcplane/svcplane/internal/controller/mirroring"
)

// endpointControllers builds the Endpoints, EndpointSlice and mirroring
// controllers.
func endpointControllers(d controllerDeps) ([]namedRun, error) {
	ep, err := endpoints.New(endpoints.Config{
		Client: d.Client, Informers: d.Informers, Recorder: d.Recorder(endpoints.Name),
		Logger: d.Logger, Workers: d.Settings.Workers,
	})
	if err != nil {
		return nil, err
	}
	es, err := endpointslice.New(endpointslice.Config{
		Client: d.Client, Informers: d.Informers, MaxEndpointsPerSlice: d.Settings.MaxEndpointsPerSlice,
		Recorder: d.Recorder(endpointslice.Name), Logger: d.Logger, Workers: d.Settings.Workers,
	})
	if err != nil {
		return nil, err
	}
	mir, err := mirroring.New(mirroring.Config{
		Client: d.Client, Informers: d.Informers, Recorder: d.Recorder(mirroring.Name),
		Logger: d.Logger, Workers: d.Settings.Workers,
	})
	if err != nil {
		return nil, err
	}
	return []namedRun{
		{name: endpoints.Name, run: ep.Run},
		{name: endpointslice.Name, run: es.Run},
		{name: mirroring.Name, run: mir.Run},
	}, nil
}
