package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/apiserver/codec"
)

// ControllersConfig configures `svcplane controllers`.
type ControllersConfig struct {
	// RESTConfig reaches the API server.
	RESTConfig *rest.Config
	// Settings of the controllers.
	Settings ControllerSettings
	Logger   *slog.Logger
}

// ControllerSettings are the knobs of the controllers.
type ControllerSettings struct {
	// MaxEndpointsPerSlice caps the endpoints of one EndpointSlice (1-1000,
	// default 100).
	MaxEndpointsPerSlice int
	// PodCIDR is the cluster's pod network; each Node gets a /24 of it
	// (default 10.244.0.0/16).
	PodCIDR string
	// NodeCIDRMaskSize is the prefix length of each Node's pod CIDR (0:
	// 24 for IPv4, 64 for IPv6).
	NodeCIDRMaskSize int
	// LoadBalancerIPRange, when set, is where LoadBalancer Services get
	// their ingress address (a CIDR or first-last); empty leaves them
	// pending.
	LoadBalancerIPRange string
	// Workers per controller (default 5).
	Workers int
	// NodeMonitorGracePeriod is how long a node may go without renewing
	// its Lease or posting status before it is marked NotReady (default
	// 40s).
	NodeMonitorGracePeriod time.Duration
	// NodeMonitorPeriod is how often node health is checked (default 5s).
	NodeMonitorPeriod time.Duration
	// LocalPathDir is where the local-path provisioner makes volumes on
	// the nodes (default /var/lib/svcplane/storage; up uses
	// <data-dir>/storage).
	LocalPathDir string
	// ClusterSigningCertFile and ClusterSigningKeyFile are the CA that
	// signs approved CertificateSigningRequests (none: not signed), for at
	// most ClusterSigningDuration (default a year).
	ClusterSigningCertFile, ClusterSigningKeyFile string
	ClusterSigningDuration                        time.Duration
}

// controllerDeps is what every controller is built from.
type controllerDeps struct {
	Client kubernetes.Interface
	// RESTConfig is the clients' configuration, for other kinds of client
	// (dynamic, metadata).
	RESTConfig *rest.Config
	Informers  informers.SharedInformerFactory
	Settings   ControllerSettings
	Logger     *slog.Logger
	// Recorder returns an event recorder reporting as component.
	Recorder func(component string) record.EventRecorder
}

// runFunc runs one controller until ctx ends.
type runFunc func(ctx context.Context)

// namedRun is a controller ready to run.
type namedRun struct {
	name string
	run  runFunc
}

// controllerSets lists the constructors of every controller group; each
// returns the controllers of its group.
func controllerSets() []func(controllerDeps) ([]namedRun, error) {
	return []func(controllerDeps) ([]namedRun, error){endpointControllers, workloadControllers, rootCAControllers, authControllers,
		quotaControllers, storageControllers, certificateControllers}
}

// RunControllers runs every controller until ctx ends.
func RunControllers(ctx context.Context, cfg ControllersConfig) error {
	cfg.Settings = cfg.Settings.withDefaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client, err := kubernetes.NewForConfig(cfg.RESTConfig)
	if err != nil {
		return err
	}
	deps := controllerDeps{
		Client: client, RESTConfig: cfg.RESTConfig, Informers: informers.NewSharedInformerFactory(client, 0),
		Settings: cfg.Settings, Logger: cfg.Logger, Recorder: recorders(ctx, client),
	}
	var runs []namedRun
	for _, set := range controllerSets() {
		rs, err := set(deps)
		if err != nil {
			return fmt.Errorf("build controllers: %w", err)
		}
		runs = append(runs, rs...)
	}
	deps.Informers.Start(ctx.Done())
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.run(ctx)
		}()
	}
	wg.Wait()
	deps.Informers.Shutdown()
	return nil
}

func (s ControllerSettings) withDefaults() ControllerSettings {
	if s.MaxEndpointsPerSlice == 0 {
		s.MaxEndpointsPerSlice = 100
	}
	if s.PodCIDR == "" {
		s.PodCIDR = "10.244.0.0/16"
	}
	if s.Workers == 0 {
		s.Workers = 5
	}
	return s
}

// recorders returns a factory of event recorders sharing one broadcaster
// that writes core/v1 Events through the API.
func recorders(ctx context.Context, client kubernetes.Interface) func(string) record.EventRecorder {
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	go func() {
		<-ctx.Done()
		b.Shutdown()
	}()
	scheme := codec.New().Scheme
	return func(component string) record.EventRecorder {
		return b.NewRecorder(scheme, corev1.EventSource{Component: component})
	}
}
