package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	kpv1 "k8s.io/kube-proxy/config/v1alpha1"

	"github.com/svcplane/svcplane/internal/proxy"
	proxyconfig "github.com/svcplane/svcplane/internal/proxy/config"
	"github.com/svcplane/svcplane/internal/proxy/conntrack"
)

// ProxyConfig configures `svcplane proxy` (and the proxy inside up).
type ProxyConfig struct {
	// RESTConfig reaches the API server.
	RESTConfig *rest.Config
	// KubeProxy is kube-proxy's configuration, defaulted and validated.
	KubeProxy *kpv1.KubeProxyConfiguration
	// IPTablesBackend is legacy, nft or auto (the one the node uses).
	IPTablesBackend string
	// ConfigMap, "namespace/name", is the kube-proxy ConfigMap the proxy
	// follows: a change of its config.conf is applied live, switching
	// modes without a restart. Empty follows nothing.
	ConfigMap string
	// ConfigFile, when ConfigMap is empty, is the --config file the proxy
	// follows the same way (the DaemonSet pod's ConfigMap volume).
	ConfigFile string
	// Override fixes fields of every configuration read from ConfigMap
	// (up's node name and cluster CIDR).
	Override func(*kpv1.KubeProxyConfiguration)
	Logger   *slog.Logger

	// newBackend and clearConntrack replace the kernel in tests.
	newBackend     func(context.Context, proxy.Mode, corev1.IPFamily, ProxyConfig) (proxy.Backend, error)
	clearConntrack proxy.Conntrack
	switchWait     time.Duration
	fileWait       time.Duration
}

func (c ProxyConfig) backend(ctx context.Context, mode proxy.Mode, fam corev1.IPFamily, cfg ProxyConfig) (proxy.Backend, error) {
	if c.newBackend != nil {
		return c.newBackend(ctx, mode, fam, cfg)
	}
	return newBackend(ctx, mode, fam, cfg)
}

func (c ProxyConfig) conntrack() proxy.Conntrack {
	if c.clearConntrack != nil {
		return c.clearConntrack
	}
	return conntrack.Netlink{}
}

// RunProxy runs the node proxy until ctx ends: it programs the network
// namespace it runs in.
func RunProxy(ctx context.Context, cfg ProxyConfig) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client, err := kubernetes.NewForConfig(cfg.RESTConfig)
	if err != nil {
		return err
	}
	return runProxyWith(ctx, cfg, client)
}

func runProxyWith(ctx context.Context, cfg ProxyConfig, client kubernetes.Interface) error {
	log := cfg.Logger
	nodeName := proxyNodeName(cfg.KubeProxy)
	nodeIPs := proxyNodeIPs(ctx, client, nodeName, cfg.KubeProxy, log)
	obs, err := startProxyServers(ctx, cfg, nodeIPs, log)
	if err != nil {
		return err
	}
	n := &proxyNode{cfg: cfg, client: client, name: nodeName, ips: nodeIPs, obs: obs,
		events: recorders(ctx, client)("kube-proxy"), log: log}
	g, err := n.start(ctx, cfg.KubeProxy)
	if err != nil {
		return err
	}
	if err := g.waitSynced(ctx, cfg.switchTimeout()); err != nil {
		log.Warn("first proxy sync", "err", err)
	} else {
		n.cleanupOthers(ctx, g.mode)
	}
	log.Info("proxy running", "mode", string(g.mode), "node", nodeName, "nodeIPs", fmt.Sprint(nodeIPs))
	switch {
	case cfg.ConfigMap != "":
		ns, name, ok := strings.Cut(cfg.ConfigMap, "/")
		if !ok {
			g.stop()
			return fmt.Errorf("proxy ConfigMap %q: want namespace/name", cfg.ConfigMap)
		}
		return n.follow(ctx, g, n.configMapSource(ns, name))
	case cfg.ConfigFile != "":
		return n.follow(ctx, g, n.fileSource(cfg.ConfigFile, cfg.filePeriod()))
	}
	<-ctx.Done()
	g.stop()
	return nil
}

// filePeriod is how often the --config file is read for changes.
func (c ProxyConfig) filePeriod() time.Duration {
	if c.fileWait > 0 {
		return c.fileWait
	}
	return time.Second
}

func proxyMode(c *kpv1.KubeProxyConfiguration) proxy.Mode {
	if c.Mode == "" {
		return proxy.ModeIPTables
	}
	return proxy.Mode(c.Mode)
}

func proxyNodeName(c *kpv1.KubeProxyConfiguration) string {
	if c.HostnameOverride != "" {
		return strings.ToLower(strings.TrimSpace(c.HostnameOverride))
	}
	h, _ := os.Hostname()
	return strings.ToLower(h)
}

// proxyNodeIPs finds the node's addresses as kube-proxy does: the Node's
// InternalIPs (waiting a while for the Node to appear), else the bind
// address when it names one.
func proxyNodeIPs(ctx context.Context, client kubernetes.Interface, nodeName string, c *kpv1.KubeProxyConfiguration, log *slog.Logger) []netip.Addr {
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err == nil {
			if ips := internalIPs(n); len(ips) > 0 {
				return ips
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if a, err := netip.ParseAddr(c.BindAddress); err == nil && !a.IsUnspecified() {
		return []netip.Addr{a}
	}
	log.Warn("node addresses unknown: NodePorts answer on every local address", "node", nodeName)
	return nil
}

func internalIPs(n *corev1.Node) []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

// proxyFamilies makes a backend for IPv4, and for IPv6 when the node has an
// IPv6 address.
func proxyFamilies(ctx context.Context, mode proxy.Mode, cfg ProxyConfig, nodeIPs []netip.Addr) ([]proxy.FamilyConfig, error) {
	fams := []corev1.IPFamily{corev1.IPv4Protocol}
	for _, ip := range nodeIPs {
		if ip.Is6() {
			fams = append(fams, corev1.IPv6Protocol)
			break
		}
	}
	var out []proxy.FamilyConfig
	for _, fam := range fams {
		ips := ipsOf(nodeIPs, fam)
		opts, err := proxyconfig.Options(cfg.KubeProxy, fam, ips)
		if err != nil {
			return nil, err
		}
		b, err := cfg.backend(ctx, mode, fam, cfg)
		if err != nil {
			if fam == corev1.IPv6Protocol && errors.Is(err, proxy.ErrUnavailable) {
				cfg.Logger.Warn("no IPv6 proxying", "err", err)
				continue
			}
			return nil, err
		}
		describeBackend(b, fam, cfg.Logger)
		if mode == proxy.ModeIPTables && fam == corev1.IPv4Protocol && opts.LocalhostNodePorts {
			if err := enableLocalhostNodePorts(cfg.Logger); err != nil {
				cfg.Logger.Warn("localhost NodePorts unavailable", "err", err)
			}
		}
		out = append(out, proxy.FamilyConfig{Family: fam, Backend: b, Options: opts, NodeIPs: ips})
	}
	return out, nil
}

func ipsOf(ips []netip.Addr, fam corev1.IPFamily) []netip.Addr {
	var out []netip.Addr
	for _, ip := range ips {
		if proxy.Family(ip) == fam {
			out = append(out, ip)
		}
	}
	return out
}
