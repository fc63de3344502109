package app

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/dns/cluster"
	"github.com/svcplane/svcplane/internal/dnsserver"
)

// DNSSettings are the cluster DNS knobs of `up`.
type DNSSettings struct {
	// NoDNS runs no DNS server.
	NoDNS bool
	// Upstreams answer names outside the cluster (empty: the node's
	// resolv.conf).
	Upstreams []string
}

// startDNS runs the cluster DNS server on the node's address, port 53,
// behind the kube-system/kube-dns Service at the agent's cluster DNS
// address (created when missing); the Service's endpoints point at the
// server once its caches have synced.
func startDNS(ctx context.Context, s *APIServer, cfg UpConfig) error {
	agent := cfg.Agent.withDefaults()
	node, err := netip.ParseAddr(agent.NodeIP)
	if err != nil {
		cfg.Logger.Warn("no cluster DNS: the node has no address of its own (run up with --sandbox)")
		return nil
	}
	rc, err := ComponentRESTConfig(s, "system:svcplane-dns")
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	if err := ensureKubeDNSService(ctx, client, agent.ClusterDNS, false); err != nil {
		return err
	}
	log := cfg.Logger.With("component", "dns")
	host := node.String()
	dcfg := dnsserver.Config{
		RESTConfig:    rc,
		Listen:        []string{net.JoinHostPort(host, "53")},
		Zone:          orString(agent.ClusterDomain, cluster.DefaultZone),
		TTL:           cluster.DefaultTTL,
		Pods:          cluster.PodsInsecure,
		Autopath:      true,
		Upstreams:     cfg.DNS.Upstreams,
		RecursionFrom: dnsClients(cfg, node),
		HealthAddr:    net.JoinHostPort(host, "8080"),
		ReadyAddr:     net.JoinHostPort(host, "8181"),
		MetricsAddr:   net.JoinHostPort(host, "9153"),
		Logger:        log,
		OnReady: func() {
			if err := writeKubeDNSEndpoints(ctx, client, node); err != nil && ctx.Err() == nil {
				log.Error("kube-dns endpoints", "err", err)
			}
		},
	}
	go func() {
		if err := dnsserver.Run(ctx, dcfg); err != nil && ctx.Err() == nil {
			cfg.Logger.Error("dns stopped", "err", err)
		}
	}()
	return nil
}

// dnsClients are the sources whose names the DNS server forwards: the
// pods, the node and loopback.
func dnsClients(cfg UpConfig, node netip.Addr) []netip.Prefix {
	out := []netip.Prefix{netip.PrefixFrom(node, node.BitLen()), netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if p, err := netip.ParsePrefix(orString(cfg.Controllers.PodCIDR, "10.244.0.0/16")); err == nil {
		out = append(out, p.Masked())
	}
	if p, err := netip.ParsePrefix(cfg.SandboxNodeIP); err == nil && cfg.Nodes > 1 {
		out = append(out, p.Masked()) // the other nodes, on the fabric
	}
	return out
}

// upClusterDNS is the cluster DNS address up uses: the one given, which
// must lie in a service CIDR (the kube-dns Service gets it), else the
// tenth address of the primary service CIDR, as kubeadm chooses
// (10.96.0.10 for the default 10.96.0.0/12).
func upClusterDNS(given string, serviceCIDRs []string) (string, error) {
	cidrs, err := parseCIDRs(serviceCIDRs)
	if err != nil {
		return "", err
	}
	if len(cidrs) == 0 {
		cidrs = []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}
	}
	if given == "" {
		ip := cidrs[0].Addr()
		for range 10 {
			ip = ip.Next()
		}
		return ip.String(), nil
	}
	ip, err := netip.ParseAddr(given)
	if err != nil {
		return "", fmt.Errorf("--cluster-dns %q: not an IP address", given)
	}
	for _, c := range cidrs {
		if c.Contains(ip) {
			return given, nil
		}
	}
	return "", fmt.Errorf("--cluster-dns %s is not in the service CIDR %s: the kube-dns Service could not have it", given, joinPrefixes(cidrs))
}

func joinPrefixes(ps []netip.Prefix) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return strings.Join(out, ",")
}
