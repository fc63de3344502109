package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	kpv1 "k8s.io/kube-proxy/config/v1alpha1"

	"github.com/svcplane/svcplane/internal/join"
	"github.com/svcplane/svcplane/internal/kubeconfig"
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
	certFile, keyFile, err := servingCertFiles(cfg.Agent, dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 3)
	go func() {
		errc <- RunAgent(ctx, AgentConfig{RESTConfig: rc, Settings: cfg.Agent, TLSCertFile: certFile, TLSKeyFile: keyFile,
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

// servingCertFiles writes (once) the agent's self-signed serving
// certificate, as a kubelet without serving certificate bootstrap does.
func servingCertFiles(s AgentSettings, dir string) (string, string, error) {
	certFile, keyFile := filepath.Join(dir, "agent-serving.crt"), filepath.Join(dir, "agent-serving.key")
	if _, err := os.Stat(certFile); err == nil {
		return certFile, keyFile, nil
	}
	var ips []net.IP
	if ip := net.ParseIP(s.NodeIP); ip != nil {
		ips = append(ips, ip)
	}
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey(s.NodeName, ips, nil)
	if err != nil {
		return "", "", fmt.Errorf("agent serving certificate: %w", err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(certFile, certPEM, 0o644)
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
