package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/certificate"
	kpv1 "k8s.io/kube-proxy/config/v1alpha1"

	"github.com/svcplane/svcplane/internal/agent/runtime/process"
	"github.com/svcplane/svcplane/internal/clusterdir"
	"github.com/svcplane/svcplane/internal/join"
	"github.com/svcplane/svcplane/internal/kubeconfig"
	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/podnet"
	proxyconfig "github.com/svcplane/svcplane/internal/proxy/config"
)

// JoinConfig configures `svcplane join`.
type JoinConfig struct {
	Discovery join.DiscoveryConfig
	// Agent settings of the joining node (name, address, data directory).
	Agent AgentSettings
	// ProxyMode is the proxy's mode (iptables if empty); NoProxy runs none.
	ProxyMode       string
	IPTablesBackend string
	NoProxy         bool
	// ClusterCIDR is the cluster's pod network (10.244.0.0/16 if empty).
	ClusterCIDR string
	// PodNetwork is how pod traffic reaches other nodes: "vxlan"
	// (default), "host-gw" or "none".
	PodNetwork string
	// ServingCertLifetime is asked of the signer for the agent's serving
	// certificate (0: the signer's default, a year).
	ServingCertLifetime time.Duration
	// CSRTimeout bounds the wait for the client certificate (5 min if 0).
	CSRTimeout time.Duration
	Logger     *slog.Logger
}

// RunJoin joins this machine (the network namespace it runs in) to a
// cluster as kubeadm join does, then runs its agent, proxy and pod
// routes until ctx ends. A node that joined before (its kubeconfig is in
// <data-dir>/join/<node>/) starts again without a token.
func RunJoin(ctx context.Context, cfg JoinConfig) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Agent = cfg.Agent.withDefaults()
	lock, err := claimJoinDir(cfg.Agent)
	if err != nil {
		return err
	}
	defer lock.Release()
	defer releaseIdleCgroups(cfg.Agent.DataDir, cfg.Logger)
	dir := filepath.Join(cfg.Agent.DataDir, "join", cfg.Agent.NodeName)
	kcPath := filepath.Join(dir, "kubelet.kubeconfig")
	if _, err := os.Stat(kcPath); errors.Is(err, os.ErrNotExist) {
		if err := bootstrapNode(ctx, cfg, kcPath); err != nil {
			return err
		}
	}
	rc, err := kubeconfig.RESTConfig(kcPath)
	if err != nil {
		return err
	}
	rc.QPS, rc.Burst = 50, 100
	return runJoinedNode(ctx, cfg, rc, dir)
}

// claimJoinDir holds the data directory for the joined node (so that
// `svcplane down --data-dir` finds and stops it) and records it as that
// node's; a directory of a server or of another node is refused.
func claimJoinDir(s AgentSettings) (*clusterdir.Lock, error) {
	rec, ok, err := clusterdir.Read(s.DataDir)
	if err != nil {
		return nil, err
	}
	if ok && rec.Node != s.NodeName {
		return nil, fmt.Errorf("data directory %s is cluster %q's (node %q): give svcplane join a --data-dir of its own", s.DataDir, rec.Name, rec.Node)
	}
	lock, err := clusterdir.Acquire(s.DataDir)
	if err != nil {
		return nil, err
	}
	if err := clusterdir.Write(s.DataDir, clusterdir.Record{Name: s.Cluster, NetnsDir: s.NetnsDir, Node: s.NodeName}); err != nil {
		lock.Release()
		return nil, err
	}
	return lock, nil
}

// releaseIdleCgroups removes the node's cgroup tree when the join stops
// with no pods left (a restart makes it again); pods still recorded keep
// it, for the restart to adopt them or `svcplane down` to remove.
func releaseIdleCgroups(dataDir string, log *slog.Logger) {
	for _, root := range agentRuntimeRoots(dataDir) {
		if inits, err := process.RecordedInits(root); err != nil || len(inits) > 0 {
			return
		}
	}
	var rep sweepReport
	removeCgroups(dataDir, &rep)
	if len(rep.left) > 0 {
		log.Warn("node cgroups left", "left", rep.left)
	}
}

// bootstrapNode discovers the cluster and obtains the node's client
// certificate, written as a kubeconfig.
func bootstrapNode(ctx context.Context, cfg JoinConfig, kcPath string) error {
	log := cfg.Logger
	cluster, err := join.Discover(ctx, cfg.Discovery)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	log.Info("cluster found and its CA verified", "server", cluster.Server)
	cluster.Server = cfg.Discovery.Server
	creds, err := join.RequestNodeCertificate(ctx, cluster, cfg.Discovery.Token, cfg.Agent.NodeName, orDuration(cfg.CSRTimeout, 5*time.Minute))
	if err != nil {
		return err
	}
	log.Info("node client certificate issued", "user", join.NodeUserPrefix+cfg.Agent.NodeName)
	return kubeconfig.Write(kcPath, kubeconfig.Config{Server: cluster.Server, User: join.NodeUserPrefix + cfg.Agent.NodeName,
		CAData: cluster.CAPEM, CertData: creds.CertPEM, KeyData: creds.KeyPEM})
}

// runJoinedNode runs the agent, the proxy and the pod routes of a joined
// node, each with the node's credentials.
func runJoinedNode(ctx context.Context, cfg JoinConfig, rc *rest.Config, dir string) error {
	// A node forwards pod traffic: the sysctls up sets in its node
	// namespaces (ip_forward, bridge netfilter...).
	if err := setupNodeSysctls("/proc/self/ns/net", cfg.Logger); err != nil {
		return err
	}
	if err := setOverlayPodMTU(&cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	serving, err := startServingCert(ctx, cfg, rc, dir)
	if err != nil {
		return err
	}
	errc := make(chan error, 3)
	go func() {
		errc <- RunAgent(ctx, AgentConfig{RESTConfig: rc, Settings: cfg.Agent, ServingCertificate: serving.Current,
			Logger: cfg.Logger.With("component", "agent")})
	}()
	if !cfg.NoProxy {
		go func() { errc <- RunProxy(ctx, joinProxyConfig(cfg, rc)) }()
	}
	stopped, err := startPodNetwork(ctx, cfg, rc)
	if err != nil {
		return err
	}
	defer func() { cancel(); <-stopped }() // the overlay's device goes with the node
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return nil
	}
}

// startPodNetwork keeps the joined node's pod network until ctx ends;
// stopped closes once it has cleaned up.
func startPodNetwork(ctx context.Context, cfg JoinConfig, rc *rest.Config) (<-chan struct{}, error) {
	stopped := make(chan struct{})
	mode := orString(cfg.PodNetwork, "vxlan")
	if mode == "none" {
		close(stopped)
		return stopped, nil
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "podnet")
	self := hostNetns
	switch mode {
	case "host-gw":
		go func() { defer close(stopped); podnet.KeepHostGW(ctx, client, cfg.Agent.NodeName, self, log) }()
	case "vxlan":
		ip, err := resolveNodeIP(cfg.Agent.NodeIP)
		if err != nil {
			return nil, err
		}
		node := podnet.LocalNode{Name: cfg.Agent.NodeName, IP: ip, Netns: self}
		go func() {
			defer close(stopped)
			podnet.KeepOverlay(ctx, podnet.OverlayConfig{Client: client, Nodes: []podnet.LocalNode{node}, Logger: log})
		}()
	default:
		return nil, fmt.Errorf("--pod-network %q: vxlan, host-gw or none", mode)
	}
	return stopped, nil
}

// setOverlayPodMTU gives the pods of a node on the VXLAN overlay the
// overlay's MTU (the uplink's less 50, as flannel's), so a full-size
// packet to another machine fits once encapsulated.
func setOverlayPodMTU(cfg *JoinConfig) error {
	if orString(cfg.PodNetwork, "vxlan") != "vxlan" || cfg.Agent.PodMTU != 0 {
		return nil
	}
	ip, err := resolveNodeIP(cfg.Agent.NodeIP)
	if err != nil {
		return err
	}
	mtu, err := netns.OverlayMTU(hostNetns, ip)
	if err != nil {
		return fmt.Errorf("pod MTU: %w", err)
	}
	cfg.Agent.PodMTU = mtu
	cfg.Logger.Info("pod MTU", "mtu", mtu, "why", "VXLAN overlay")
	return nil
}

// joinProxyConfig: the joined node's proxy follows the kube-proxy
// ConfigMap as up's nodes do, with the node's name and the cluster CIDR
// its own.
func joinProxyConfig(cfg JoinConfig, rc *rest.Config) ProxyConfig {
	override := func(kp *kpv1.KubeProxyConfiguration) {
		kp.HostnameOverride = cfg.Agent.NodeName
		kp.ClusterCIDR = orString(cfg.ClusterCIDR, "10.244.0.0/16")
	}
	kp := proxyconfig.Default()
	kp.Mode = kpv1.ProxyMode(orString(cfg.ProxyMode, "iptables"))
	override(kp)
	return ProxyConfig{RESTConfig: rc, KubeProxy: kp, IPTablesBackend: orString(cfg.IPTablesBackend, "auto"),
		ConfigMap: "kube-system/" + kubeProxyConfigMap, Override: override, Logger: cfg.Logger.With("component", "proxy")}
}

// startServingCert keeps the agent's serving certificate, issued by the
// cluster CA through a kubelet-serving CSR (which the csrapproving
// controller approves when its SANs are the node's own addresses) and
// rotated before it expires.
func startServingCert(ctx context.Context, cfg JoinConfig, rc *rest.Config, dir string) (certificate.Manager, error) {
	ip, err := resolveNodeIP(cfg.Agent.NodeIP)
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	return join.StartServingCertificate(ctx, join.ServingConfig{Client: client, NodeName: cfg.Agent.NodeName, NodeIP: ip,
		Dir: dir, Lifetime: cfg.ServingCertLifetime})
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
