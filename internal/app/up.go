package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/clusterdir"
	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/preflight"
)

// UpConfig configures `svcplane up`: one node with everything on it.
type UpConfig struct {
	APIServer APIServerConfig
	// Controllers are the controller settings.
	Controllers ControllerSettings
	// Example applies the example workload on first start.
	Example bool
	// Agent settings; NoAgent runs no agent.
	Agent   AgentSettings
	NoAgent bool
	// Proxy settings; the proxy runs with the agent, on its node.
	Proxy ProxySettings
	// DNS settings; the DNS server runs with the agent, on its node.
	DNS DNSSettings
	// NoAddons runs the proxy and the DNS server inside up rather than as
	// kube-system pods (see addons.go).
	NoAddons bool
	// Sandbox, when set, runs the node in a network namespace of that
	// name (see sandbox.go); Args are the command line to run again inside
	// and SandboxNodeIP the node's address there.
	Sandbox       string
	Args          []string
	SandboxNodeIP string
	// Nodes is how many sandboxed nodes to run (1 if zero); those after
	// the first run an agent and a proxy each (see nodes.go).
	Nodes int
	// UI is the live view's settings.
	UI UISettings
	// Registry lists the machine's clusters (clusterdir.DefaultRegistry).
	Registry clusterdir.Registry
	// Preflight probes the machine before anything is created
	// (preflight.OS{} when nil); IgnorePreflight goes on past what is
	// missing.
	Preflight       preflight.Probes
	IgnorePreflight bool
	// Out receives the how-to-use text.
	Out    io.Writer
	Logger *slog.Logger
}

// RunUp runs the API server (and, as they land, the other components)
// until ctx ends.
func RunUp(ctx context.Context, cfg UpConfig) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Nodes > 1 && cfg.Sandbox == "" {
		return fmt.Errorf("--nodes %d needs --sandbox: the nodes are network namespaces", cfg.Nodes)
	}
	dnsIP, err := upClusterDNS(cfg.Agent.ClusterDNS, cfg.APIServer.Cluster.ServiceCIDRs)
	if err != nil {
		return err
	}
	cfg.Agent.ClusterDNS = dnsIP
	if !inSandbox() {
		if err := preflightUp(cfg, os.Stderr); err != nil {
			return err
		}
		lock, err := claimDataDir(cfg)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	if cfg.Sandbox != "" && !inSandbox() {
		return runSandboxParent(ctx, cfg)
	}
	if cfg.Sandbox != "" {
		if err := enterSandbox(ctx, &cfg); err != nil {
			return err
		}
	}
	start := time.Now()
	if addonsOn(cfg) {
		if err := splitComponentLogs(&cfg); err != nil {
			return err
		}
	}
	trees := upTrees(cfg)
	cfg.APIServer.Logger = cfg.Logger
	cfg.APIServer.Cluster.ClusterDomain = orString(cfg.APIServer.Cluster.ClusterDomain, cfg.Agent.ClusterDomain)
	s, err := StartAPIServer(ctx, cfg.APIServer)
	if err != nil {
		return err
	}
	if cfg.Controllers.LocalPathDir == "" {
		cfg.Controllers.LocalPathDir = filepath.Join(orString(cfg.APIServer.DataDir, "/var/lib/svcplane"), "storage")
	}
	if err := startControllers(ctx, s, cfg); err != nil {
		return err
	}
	if !cfg.NoAgent {
		if err := startAgent(ctx, s, cfg, trees); err != nil {
			return err
		}
	}
	objects := startClusterObjects(ctx, s, cfg)
	if !cfg.NoAgent {
		if err := startNodeComponents(ctx, s, cfg); err != nil {
			return err
		}
		if cfg.Sandbox != "" {
			if err := startWorkerNodes(ctx, s, cfg); err != nil {
				return err
			}
		} else if err := startHostOverlay(ctx, s, cfg); err != nil {
			return err
		}
	}
	if err := objects(); err != nil {
		return err
	}
	if err := startUI(ctx, s, cfg); err != nil {
		cfg.Logger.Warn("no live view", "err", err)
	}
	if cfg.Out != nil {
		if addonsOn(cfg) {
			waitSystemReady(ctx, s, cfg, start)
		}
		printUsage(cfg.Out, s, cfg.Example)
	}
	<-s.Done
	return s.Err()
}

// startClusterObjects creates the local-path StorageClass and, when
// asked, the example workload, while the node and its addons start (the
// example's pods then start beside the system pods, not after them). The
// function returned waits for both and returns the StorageClass's error;
// the example's is only logged.
func startClusterObjects(ctx context.Context, s *APIServer, cfg UpConfig) func() error {
	class := make(chan error, 1)
	go func() { class <- ensureLocalPathClass(ctx, s) }()
	example := make(chan struct{})
	go func() {
		defer close(example)
		if !cfg.Example {
			return
		}
		if err := applyExample(ctx, s, cfg.Nodes, cfg.Logger); err != nil {
			cfg.Logger.Warn("example workload not applied", "err", err)
		}
	}()
	return func() error {
		<-example
		return <-class
	}
}

// upTrees starts laying out the agent's built-in image trees, while the
// API server starts (see layOutTrees); nil without an agent.
func upTrees(cfg UpConfig) func() (images.Trees, error) {
	st := upAgentSettings(cfg)
	if cfg.NoAgent {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil // the agent reports it
	}
	return layOutTrees(st, self, cfg.Logger.With("component", "agent"))
}

// startNodeComponents starts the proxy and the DNS server: as
// kube-system pods (the addons), or inside up with --no-addons.
func startNodeComponents(ctx context.Context, s *APIServer, cfg UpConfig) error {
	if addonsOn(cfg) {
		return startAddons(ctx, s, cfg)
	}
	if err := stopAddons(ctx, s); err != nil {
		return err
	}
	if !cfg.Proxy.NoProxy {
		if err := startProxy(ctx, s, cfg); err != nil {
			return err
		}
	}
	if !cfg.DNS.NoDNS {
		return startDNS(ctx, s, cfg)
	}
	return nil
}

// splitComponentLogs makes up's logger also write each control-plane
// component's records to the file its mirror pod's logs show.
func splitComponentLogs(cfg *UpConfig) error {
	var names []string
	for _, sp := range staticPods(*cfg) {
		names = append(names, sp.component)
	}
	h, err := newComponentLogs(cfg.Logger.Handler(), componentLogDir(*cfg), names)
	if err != nil {
		return err
	}
	cfg.Logger = slog.New(h)
	return nil
}

// waitSystemReady prints a line per system component as it becomes
// ready (every kube-system pod Ready and DNS answering), for at most a
// minute.
func waitSystemReady(ctx context.Context, s *APIServer, cfg UpConfig, start time.Time) {
	client, err := addonsClient(s)
	if err != nil {
		cfg.Logger.Warn("no readiness report", "err", err)
		return
	}
	fmt.Fprintln(cfg.Out, "svcplane: starting the system components (kube-system)")
	if waitSystem(ctx, cfg.Out, systemChecks(client, cfg), start, time.Minute) {
		fmt.Fprintf(cfg.Out, "svcplane: every system component ready in %.1fs\n", time.Since(start).Seconds())
	}
}

// claimDataDir locks the data directory for as long as up runs and
// records in it the cluster it makes on the machine, so that `svcplane
// down --data-dir` removes that one and no other.
func claimDataDir(cfg UpConfig) (*clusterdir.Lock, error) {
	rec := clusterdir.Record{Name: cfg.Sandbox, Sandbox: cfg.Sandbox != "", NetnsDir: orString(cfg.Agent.NetnsDir, netns.DefaultDir)}
	if rec.Name == "" && !cfg.NoAgent {
		rec.Name = cfg.Agent.withDefaults().Cluster
	}
	dir := orString(cfg.APIServer.DataDir, "/var/lib/svcplane")
	lock, err := clusterdir.Claim(dir, rec, cfg.Registry)
	if err != nil || rec.Name == "" {
		return lock, err
	}
	if err := cfg.Registry.Register(rec.Name, dir); err != nil {
		cfg.Logger.Warn("cluster not listed on the machine: svcplane down will need --data-dir", "err", err)
	}
	return lock, nil
}

// printUsage says where the API and its kubeconfig are, and three
// commands to try (the third shows the example when there is one).
func printUsage(out io.Writer, s *APIServer, example bool) {
	third := "kubectl create deployment web --image=nginx --replicas=3 && kubectl expose deployment web --port=80"
	if example {
		third = "kubectl get all -n demo"
	}
	fmt.Fprintf(out, `svcplane is up: the Kubernetes API is served at %s

  export KUBECONFIG=%s
  kubectl get nodes -o wide
  kubectl get svc -n kube-system
  %s

Press Ctrl-C to stop; starting again keeps all data.
`, s.URL, s.AdminKubeconfig, third)
}

// startControllers runs the controllers in the background, as a client of
// the API server like any other.
func startControllers(ctx context.Context, s *APIServer, cfg UpConfig) error {
	rc, err := ComponentRESTConfig(s, "system:svcplane-controllers")
	if err != nil {
		return err
	}
	settings := cfg.Controllers
	settings.ClusterSigningCertFile = orString(settings.ClusterSigningCertFile, s.PKI.Paths.CACert)
	settings.ClusterSigningKeyFile = orString(settings.ClusterSigningKeyFile, s.PKI.Paths.CAKey)
	go func() {
		err := RunControllers(ctx, ControllersConfig{RESTConfig: rc, Settings: settings, Logger: cfg.Logger.With("component", "controllers")})
		if err != nil {
			cfg.Logger.Error("controllers stopped", "err", err)
		}
	}()
	return nil
}
