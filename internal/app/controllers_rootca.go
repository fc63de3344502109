package app

import (
	"fmt"
	"os"

	"github.com/svcplane/svcplane/internal/controller/rootca"
)

// rootCAControllers builds the root-ca-cert-publisher, which publishes the
// CA the controllers trust the API server with (the cluster CA); without
// one (a kubeconfig with insecure TLS) it is left out, with a warning.
func rootCAControllers(d controllerDeps) ([]namedRun, error) {
	ca, err := clusterCA(d)
	if err != nil {
		return nil, err
	}
	if len(ca) == 0 {
		d.Logger.Warn("no cluster CA in the controllers' kubeconfig: the kube-root-ca.crt ConfigMaps are not published")
		return nil, nil
	}
	c, err := rootca.New(rootca.Config{Client: d.Client, Namespaces: d.Informers.Core().V1().Namespaces(),
		ConfigMaps: d.Informers.Core().V1().ConfigMaps(), RootCA: ca, Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	return []namedRun{{name: rootca.Name, run: runWith(c.Run, d.Settings.Workers)}}, nil
}

// clusterCA is the CA bundle of the controllers' client configuration.
func clusterCA(d controllerDeps) ([]byte, error) {
	tls := d.RESTConfig.TLSClientConfig
	if len(tls.CAData) > 0 || tls.CAFile == "" {
		return tls.CAData, nil
	}
	b, err := os.ReadFile(tls.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read the cluster CA: %w", err)
	}
	return b, nil
}
