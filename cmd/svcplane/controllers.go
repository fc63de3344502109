package main

import (
	"context"
	"flag"
	"time"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// controllerFlags binds the controllers' flags to s.
func controllerFlags(fs *flag.FlagSet, s *app.ControllerSettings) {
	fs.IntVar(&s.MaxEndpointsPerSlice, "max-endpoints-per-slice", 100, "most endpoints in one EndpointSlice (1-1000)")
	fs.StringVar(&s.PodCIDR, "cluster-cidr", "10.244.0.0/16", "pod network; each node gets a /24 of it (--node-cidr-mask-size)")
	fs.IntVar(&s.NodeCIDRMaskSize, "node-cidr-mask-size", 0, "prefix length of each node's pod CIDR (default 24 for IPv4, 64 for IPv6), as kube-controller-manager's")
	fs.StringVar(&s.LoadBalancerIPRange, "loadbalancer-ip-range", "", "addresses for LoadBalancer Services (CIDR or first-last); empty leaves them pending")
	fs.IntVar(&s.Workers, "workers", 5, "workers per controller")
	fs.DurationVar(&s.NodeMonitorGracePeriod, "node-monitor-grace-period", 40*time.Second, "how long a node may stay silent before it is marked NotReady")
	fs.DurationVar(&s.NodeMonitorPeriod, "node-monitor-period", 5*time.Second, "how often node health is checked")
	fs.StringVar(&s.LocalPathDir, "local-path-dir", "", "where the local-path provisioner makes volumes on the nodes (default <data-dir>/storage under up, else /var/lib/svcplane/storage)")
	fs.StringVar(&s.ClusterSigningCertFile, "cluster-signing-cert-file", "", "CA certificate that signs approved CertificateSigningRequests (up: the cluster CA)")
	fs.StringVar(&s.ClusterSigningKeyFile, "cluster-signing-key-file", "", "key of --cluster-signing-cert-file")
	fs.DurationVar(&s.ClusterSigningDuration, "cluster-signing-duration", 365*24*time.Hour, "longest certificate signed")
}

func runControllers(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("controllers", flag.ContinueOnError)
	var cfg app.ControllersConfig
	controllerFlags(fs, &cfg.Settings)
	kc := fs.String("kubeconfig", "", "kubeconfig of the API server to use")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rc, err := kubeconfig.RESTConfig(*kc)
	if err != nil {
		return err
	}
	cfg.RESTConfig = rc
	cfg.Logger = newLogger(*level)
	return app.RunControllers(ctx, cfg)
}
